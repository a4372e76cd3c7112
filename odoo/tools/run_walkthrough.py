#!/usr/bin/python3
"""Run odoo/README.md's walk-through («Try it»), command by command, in a real Odoo.

    ODOO_SRC=/path/to/odoo-19.0 PGHOST=127.0.0.1 PGUSER=role PGPASSWORD=pw odoo/tools/run_walkthrough.py

The ```sh blocks between the README's walkthrough markers are run in order,
in one bash session, from the repository root, exactly as written except for
what must differ on a shared machine: the database name ``dte_demo`` and the
Odoo port ``18069`` are replaced by unique ones, and ``make run`` gets free
ports, a RabbitMQ vhost and an S3 bucket of its own (through LOCAL_FLAGS and
S3_BUCKET, which the README's commands honour). A block whose first line is a
``# terminal N`` comment keeps running in the README (a server): it is started
in the background and waited for (Odoo: its callback route answers; the
pipeline: it prints ``ready:``), and stopped at the end.

Fails (exit 1) when a command fails, when a server does not come up, or when
Odoo's log has an ERROR or CRITICAL line or a serialization failure. The
PostgreSQL role must be allowed to create databases (scripts/odoo-test.sh
makes one); the database is dropped afterwards.
"""

import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, os.pardir, os.pardir))
README = os.path.join(REPO, 'odoo', 'README.md')
START, END = '<!-- walkthrough:start -->', '<!-- walkthrough:end -->'
BLOCK = re.compile(r'^```sh\n(.*?)^```', re.S | re.M)
TERMINAL = re.compile(r'^# terminal \d+\b')
ODOO_LOG_PROBLEM = re.compile(r'^\S+ \S+ \d+ (ERROR|CRITICAL) |could not serialize|SERIALIZATION_FAILURE', re.M)
ODOO_INFO = re.compile(r'^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ \d+ (INFO|DEBUG) ')


def blocks(readme_text):
    """The walk-through's shell blocks, in order."""
    try:
        section = readme_text.split(START, 1)[1].split(END, 1)[0]
    except IndexError:
        raise SystemExit(f'run_walkthrough: {README} has no {START} ... {END} section') from None
    found = BLOCK.findall(section)
    if not found:
        raise SystemExit('run_walkthrough: the walk-through section has no ```sh block')
    return found


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def script_for(found, db, odoo_port, logs):
    """One bash script: foreground blocks as they are, servers in the background."""
    lines = [
        'set -euo pipefail',
        'set -m  # each background server in its own process group',
        f'cd {shlex.quote(REPO)}',
        'servers=()',
        'stop_servers() {',
        '  for pid in "${servers[@]}"; do kill -INT -- "-$pid" 2>/dev/null || true; done',
        '  for pid in "${servers[@]}"; do',
        '    for _ in $(seq 100); do kill -0 -- "-$pid" 2>/dev/null || break; sleep 0.2; done',
        '    kill -TERM -- "-$pid" 2>/dev/null || true',
        '  done',
        '  wait 2>/dev/null || true',
        '}',
        'trap stop_servers EXIT',
        'wait_for() {  # description, timeout (s), command that succeeds once ready',
        '  local what=$1 limit=$2; shift 2',
        '  for _ in $(seq $((limit * 5))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done',
        '  echo "walkthrough: $what not ready after ${limit}s" >&2; return 1',
        '}',
    ]
    for index, block in enumerate(found, 1):
        text = block.replace('dte_demo', db).replace('18069', str(odoo_port))
        first = text.strip().splitlines()[0] if text.strip() else ''
        lines.append('echo ' + shlex.quote(f'walkthrough: step {index}: {first[:90]}'))
        if not TERMINAL.match(first):
            lines.append(text)
            continue
        log = os.path.join(logs, f'step{index}.log')
        lines.append(f'( {text.strip()}\n) > {shlex.quote(log)} 2>&1 &')
        lines.append('servers+=($!)')
        if 'odoo-bin' in text or '$ODOO' in text:
            # the addon answers an unsigned call with 401 "invalid signature"
            probe = (f"curl -s -X POST -H 'Content-Type: application/json' -H 'X-Odoo-Database: {db}' -d '{{}}' "
                     f"http://127.0.0.1:{odoo_port}/api/dte/callback | grep -q 'invalid signature'")
            lines.append(f'wait_for "Odoo (step {index}, {log})" 300 bash -c {shlex.quote(probe)}')
        elif 'make run' in text or 'dte local' in text:
            lines.append(f'wait_for "the pipeline (step {index}, {log})" 900 grep -q "^ready: " {shlex.quote(log)}')
        else:
            raise SystemExit(f'run_walkthrough: step {index} keeps running but is neither Odoo nor the pipeline')
    return '\n'.join(lines) + '\n'


def main():
    for name in ('ODOO_SRC', 'PGHOST', 'PGUSER', 'PGPASSWORD'):
        if not os.environ.get(name):
            raise SystemExit(f'run_walkthrough: set {name} (see the module docstring)')
    found = blocks(open(README, encoding='utf-8').read())
    suffix = f'{os.getpid()}_{int(time.time())}'
    db, odoo_port = f'dte_walk_{suffix}', free_port()
    vhost = f'dte-walkthrough-{suffix}'
    work = tempfile.mkdtemp(prefix='dte-walkthrough.')
    logs = os.path.join(work, 'logs')
    os.makedirs(logs)
    ports = {name: free_port() for name in ('enqueue', 'sign', 'submit', 'notify', 'sii', 'odoo')}
    go_env = {k: subprocess.run(['go', 'env', k], capture_output=True, text=True, check=True).stdout.strip()
              for k in ('GOCACHE', 'GOMODCACHE', 'GOPATH')}
    env = dict(os.environ, **go_env,
               HOME=os.path.join(work, 'home'),  # Odoo's data dir and shell history go there
               S3_BUCKET='dte-walkthrough',
               DTE_ENQUEUE_URL=f'http://127.0.0.1:{ports["enqueue"]}/',
               LOCAL_FLAGS=' '.join([f'--{name}-port {port}' for name, port in ports.items()]
                                    + [f'--amqp-url amqp://guest:guest@127.0.0.1:5672/{vhost}',
                                       f'--workdir {os.path.join(work, "local")}']))
    os.makedirs(env['HOME'])
    script = script_for(found, db, odoo_port, logs)
    with open(os.path.join(work, 'walkthrough.sh'), 'w', encoding='utf-8') as f:
        f.write(script)
    print(f'run_walkthrough: {len(found)} steps of odoo/README.md; database {db}, Odoo port {odoo_port}, '
          f'vhost {vhost}; work folder {work}', flush=True)
    started = time.monotonic()
    try:
        # Everything the foreground steps print goes to a log (checked below);
        # the console gets it without Odoo's INFO lines.
        with open(os.path.join(logs, 'foreground.log'), 'w', encoding='utf-8') as log, \
                subprocess.Popen(['bash', os.path.join(work, 'walkthrough.sh')], env=env, cwd=REPO, text=True,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, errors='replace') as proc:
            for line in proc.stdout:
                log.write(line)
                if not ODOO_INFO.match(line):
                    print(line, end='', flush=True)
        problems = []
        if proc.returncode != 0:
            problems.append(f'a step failed (exit {proc.returncode})')
        odoo_logs = [os.path.join(logs, name) for name in sorted(os.listdir(logs))]
        for path in odoo_logs:
            text = open(path, encoding='utf-8', errors='replace').read()
            bad = [line for line in text.splitlines() if ODOO_LOG_PROBLEM.search(line)]
            if bad:
                problems.append(f'{path}: {len(bad)} ERROR/serialization line(s), first: {bad[0][:300]}')
        elapsed = time.monotonic() - started
        if problems:
            for path in odoo_logs:
                print(f'--- {path} (last lines)')
                print('\n'.join(open(path, encoding='utf-8', errors='replace').read().splitlines()[-30:]))
            print(f'run_walkthrough: FAILED in {elapsed:.0f}s: ' + '; '.join(problems), file=sys.stderr)
            return 1
        print(f'run_walkthrough: OK, {len(found)} steps in {elapsed:.0f}s, no ERROR in Odoo\'s log')
        shutil.rmtree(work, ignore_errors=True)
        return 0
    finally:
        subprocess.run(['psql', '-X', '-q', '-d', 'postgres', '-c', f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'],
                       env=env, capture_output=True)
        subprocess.run(['rabbitmqctl', 'delete_vhost', vhost], capture_output=True)


if __name__ == '__main__':
    sys.exit(main())
