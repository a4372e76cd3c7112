#!/usr/bin/env bash
# Makes sure RabbitMQ answers on 127.0.0.1:5672, starting the machine's
# server the way it was installed (`rabbitmq-server -detached`) when it is not.
#   scripts/rabbitmq.sh ensure
set -euo pipefail

ensure() {
  if rabbitmqctl -q status >/dev/null 2>&1; then
    return 0
  fi
  if ! command -v rabbitmq-server >/dev/null 2>&1; then
    echo "rabbitmq-server is not installed: apt-get install -y rabbitmq-server" >&2
    exit 1
  fi
  echo "starting RabbitMQ (rabbitmq-server -detached)..." >&2
  rabbitmq-server -detached
  rabbitmqctl -q await_startup --timeout 120
}

case "${1:-ensure}" in
  ensure) ensure ;;
  *) echo "usage: $0 ensure" >&2; exit 2 ;;
esac
