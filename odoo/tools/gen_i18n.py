#!/usr/bin/python3
"""Generate the addon's translation template and its Spanish catalogue.

    /usr/bin/python3 odoo/tools/gen_i18n.py            # write i18n/*.pot and i18n/es.po
    /usr/bin/python3 odoo/tools/gen_i18n.py --check    # exit 1 when they are out of date

The addon's source strings are already in Spanish (see odoo/README.md,
"Idioma"), so ``es.po`` translates each term to itself: it is complete, it
loads cleanly for es, es_CL, es_419, ..., and it is the starting point for a
translator who wants other wording. Terms are collected the way Odoo's own
exporter names them (model fields, selections, views, actions, menus, and
``self.env._()`` strings in Python), without needing an Odoo server.
"""

import argparse
import ast
import json
import os
import re
import sys
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
ADDON_DIR = os.path.normpath(os.path.join(HERE, os.pardir, "l10n_cl_dte_async"))
MODULE = "l10n_cl_dte_async"
sys.path.insert(0, ADDON_DIR)

from dtelib import messages, transitions  # noqa: E402  (used to evaluate selections)

VIEW_ATTRIBUTES = ("string", "help", "placeholder", "title", "confirm", "sum", "avg")
HEADER = """# Translation of Odoo Server.
# This file contains the translation of the following modules:
# \t* {module}
#
msgid ""
msgstr ""
"Project-Id-Version: Odoo Server 19.0\\n"
"Report-Msgid-Bugs-To: \\n"
"Last-Translator: \\n"
"Language-Team: \\n"
"MIME-Version: 1.0\\n"
"Content-Type: text/plain; charset=UTF-8\\n"
"Content-Transfer-Encoding: \\n"
{language}"Plural-Forms: {plural}\\n"
"""


class Catalog:
    def __init__(self):
        self.terms = {}  # msgid -> {"refs": [...], "python": bool}

    def add(self, msgid, ref, python_format=False, code=False, javascript=False):
        msgid = (msgid or "").strip() if not (code or javascript) else msgid
        if not msgid:
            return
        entry = self.terms.setdefault(msgid, {"refs": [], "python": False, "code": False, "javascript": False})
        if ref not in entry["refs"]:
            entry["refs"].append(ref)
        entry["python"] = entry["python"] or python_format
        entry["code"] = entry["code"] or code
        entry["javascript"] = entry["javascript"] or javascript


def _xml_model(model):
    return model.replace(".", "_")


def _kw(call, name):
    for kw in call.keywords:
        if kw.arg == name:
            return kw.value
    return None


def _const(node):
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _selection(node, module_consts):
    if node is None:
        return []
    if isinstance(node, ast.Name) and node.id in module_consts:
        node = module_consts[node.id]
    try:
        return ast.literal_eval(node)
    except ValueError:
        code = compile(ast.Expression(node), "<selection>", "eval")
        return eval(code, {"messages": messages, "transitions": transitions})  # our own constants


def scan_python(path, rel, catalog):
    tree = ast.parse(open(path, encoding="utf-8").read(), path)
    module_consts = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            module_consts[node.targets[0].id] = node.value
    for node in ast.walk(tree):
        # self.env._("...") strings
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "_"
                and node.args and _const(node.args[0])):
            text = _const(node.args[0])
            catalog.add(text, f"code:addons/{MODULE}/{rel}:0", python_format="%" in text, code=True)
    for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
        attrs = {}
        for stmt in cls.body:
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
                attrs[stmt.targets[0].id] = stmt.value
        model = _const(attrs.get("_name")) or _const(attrs.get("_inherit"))
        if not model:
            continue
        description = _const(attrs.get("_description"))
        if description and _const(attrs.get("_name")):
            catalog.add(description, f"model:ir.model,name:{MODULE}.model_{_xml_model(model)}")
        for fname, value in attrs.items():
            if not (isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute)
                    and isinstance(value.func.value, ast.Name) and value.func.value.id == "fields"):
                continue
            field_xmlid = f"{MODULE}.field_{_xml_model(model)}__{fname}"
            string = _const(_kw(value, "string"))
            if string:
                catalog.add(string, f"model:ir.model.fields,field_description:{field_xmlid}")
            help_text = _const(_kw(value, "help"))
            if help_text:
                catalog.add(help_text, f"model:ir.model.fields,help:{field_xmlid}")
            if value.func.attr == "Selection":
                selection = _kw(value, "selection") or (value.args[0] if value.args else None)
                for key, label in _selection(selection, module_consts):
                    xmlid = f"{MODULE}.selection__{_xml_model(model)}__{fname}__{key.replace('.', '_').replace(' ', '_').lower()}"
                    catalog.add(label, f"model:ir.model.fields.selection,name:{xmlid}")


def _arch_terms(element, out):
    for attr in VIEW_ATTRIBUTES:
        if element.get(attr):
            out.append(element.get(attr))
    if element.tag not in ("field",) and element.text and element.text.strip():
        out.append(" ".join(element.text.split()))
    for child in element:
        _arch_terms(child, out)
        if child.tail and child.tail.strip():
            out.append(" ".join(child.tail.split()))


def scan_xml(path, catalog):
    root = ET.parse(path).getroot()
    for record in root.iter("record"):
        xmlid = record.get("id")
        full = xmlid if "." in xmlid else f"{MODULE}.{xmlid}"
        model = record.get("model")
        fields_ = {f.get("name"): f for f in record.findall("field")}
        if model == "ir.ui.view" and "arch" in fields_:
            terms = []
            for child in fields_["arch"]:
                _arch_terms(child, terms)
            for term in terms:
                catalog.add(term, f"model_terms:ir.ui.view,arch_db:{full}")
        elif model in ("ir.actions.act_window", "ir.actions.server"):
            if fields_.get("name") is not None and fields_["name"].text:
                catalog.add(fields_["name"].text, f"model:{model},name:{full}")
            if model == "ir.actions.act_window" and fields_.get("help") is not None:
                terms = []
                for child in fields_["help"]:
                    terms.append(" ".join("".join(child.itertext()).split()))
                for term in terms:
                    catalog.add(term, f"model_terms:{model},help:{full}")
    for menu in root.iter("menuitem"):
        if menu.get("name"):
            xmlid = menu.get("id")
            full = xmlid if "." in xmlid else f"{MODULE}.{xmlid}"
            catalog.add(menu.get("name"), f"model:ir.ui.menu,name:{full}")


# _t("...") in the web client's code (double-quoted literals, as the addon writes them).
JS_TERM = re.compile(r'\b_t\(\s*"((?:[^"\\]|\\.)*)"')


def scan_js(path, rel, catalog):
    for match in JS_TERM.finditer(open(path, encoding="utf-8").read()):
        catalog.add(json.loads(f'"{match.group(1)}"'), f"code:addons/{MODULE}/{rel}:0", javascript=True)


def collect():
    catalog = Catalog()
    static = os.path.join(ADDON_DIR, "static", "src")
    for folder, _dirs, names in sorted(os.walk(static)):
        for name in sorted(names):
            if name.endswith(".js"):
                path = os.path.join(folder, name)
                scan_js(path, os.path.relpath(path, ADDON_DIR), catalog)
    for folder in ("models", "controllers", "wizard"):
        base = os.path.join(ADDON_DIR, folder)
        if not os.path.isdir(base):
            continue
        for name in sorted(os.listdir(base)):
            if name.endswith(".py"):
                scan_python(os.path.join(base, name), f"{folder}/{name}", catalog)
    for folder in ("views", "data", "security"):
        base = os.path.join(ADDON_DIR, folder)
        for name in sorted(os.listdir(base)):
            if name.endswith(".xml"):
                scan_xml(os.path.join(base, name), catalog)
    return catalog


def _quote(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t") + '"'


def render(catalog, language=None):
    if language:
        head = HEADER.format(module=MODULE, language=f'"Language: {language}\\n"\n',
                             plural="nplurals=2; plural=(n != 1);")
    else:
        head = HEADER.format(module=MODULE, language="", plural="")
    out = [head]
    for msgid in sorted(catalog.terms, key=lambda t: (t.lower(), t)):
        entry = catalog.terms[msgid]
        lines = [f"#. module: {MODULE}"]
        if entry["code"]:
            lines.append("#. odoo-python")
        if entry["javascript"]:
            lines.append("#. odoo-javascript")
        for ref in sorted(entry["refs"]):
            lines.append(f"#: {ref}")
        if entry["python"]:
            lines.append("#, python-format")
        lines.append(f"msgid {_quote(msgid)}")
        lines.append(f"msgstr {_quote(msgid if language else '')}")
        out.append("\n".join(lines) + "\n")
    return "\n".join(out)


def outputs():
    catalog = collect()
    i18n = os.path.join(ADDON_DIR, "i18n")
    return {
        os.path.join(i18n, f"{MODULE}.pot"): render(catalog),
        os.path.join(i18n, "es.po"): render(catalog, "es"),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="fail when the files are not up to date")
    args = parser.parse_args(argv)
    stale = []
    for path, text in outputs().items():
        current = open(path, encoding="utf-8").read() if os.path.exists(path) else None
        if current != text:
            stale.append(path)
            if not args.check:
                with open(path, "w", encoding="utf-8") as fh:
                    fh.write(text)
    if args.check and stale:
        print("out of date (run odoo/tools/gen_i18n.py): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
