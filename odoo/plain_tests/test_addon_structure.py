"""The addon is installable in Odoo 19.0 as far as can be checked without Odoo:
Python compiles, XML parses, the manifest follows the 19.0 rules
(see odoo/README.md), views use 17+/19 syntax only, every reference
resolves, security covers every new model, translations are complete."""

import ast
import csv
import glob
import os
import re
import subprocess
import sys
import unittest
import xml.etree.ElementTree as ET

import _support

ADDON = _support.ADDON
MODULE = "l10n_cl_dte_async"
LICENSES = {"GPL-2", "GPL-2 or any later version", "GPL-3", "GPL-3 or any later version", "AGPL-3", "LGPL-3",
            "Other OSI approved licence", "OEEL-1", "OPL-1", "Other proprietary"}
# External records the addon refers to, each checked against Odoo 19.0 sources.
EXTERNAL_REFS = {
    "account.view_move_form", "account.view_invoice_tree", "account.view_account_invoice_filter",
    "account.res_config_settings_view_form", "account.model_account_move", "account.menu_finance_configuration",
    "account.group_account_invoice", "account.group_account_readonly", "account.group_account_manager",
    "base.group_system", "base.group_multi_company", "base.view_partner_form",
}
# Fields of other modules that the addon's views use (account.move from account/l10n_cl, magic fields).
EXTERNAL_FIELDS = {
    "account.move": {"country_code", "move_type", "l10n_latam_document_type_id_code"},
    "l10n_cl_dte_async.event": {"create_date"},
    "res.config.settings": set(),
    "res.partner": {"category_id", "parent_id"},
}
MODIFIERS = ("invisible", "readonly", "required", "column_invisible")


def read(path):
    with open(path, encoding="utf-8") as fh:
        return fh.read()


def addon_files(pattern):
    """The addon's files matching pattern; none is an error (a test fed by an
    empty glob would check nothing)."""
    files = sorted(glob.glob(os.path.join(ADDON, pattern), recursive=True))
    if not files:
        raise AssertionError(f"no addon file matches {pattern}")
    return files


def read_manifest():
    with open(os.path.join(ADDON, "__manifest__.py"), encoding="utf-8") as fh:
        return ast.literal_eval(fh.read())


def model_fields():
    """{model: {field names}} and {model: {method names}} defined by the addon."""
    fields_, methods = {}, {}
    for path in addon_files("models/*.py"):
        tree = ast.parse(read(path))
        for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
            attrs = {s.targets[0].id: s.value for s in cls.body
                     if isinstance(s, ast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], ast.Name)}
            name = attrs.get("_name") or attrs.get("_inherit")
            model = name.value if isinstance(name, ast.Constant) else None
            if not model:
                continue
            for fname, value in attrs.items():
                if (isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute)
                        and getattr(value.func.value, "id", None) == "fields"):
                    fields_.setdefault(model, set()).add(fname)
            methods.setdefault(model, set()).update(
                s.name for s in cls.body if isinstance(s, ast.FunctionDef))
    return fields_, methods


class TestPython(unittest.TestCase):
    def test_every_python_file_compiles(self):
        files = addon_files("**/*.py") + sorted(glob.glob(os.path.join(_support.ODOO_DIR, "tools", "*.py")))
        self.assertGreater(len(files), 15)
        for path in files:
            with self.subTest(path=os.path.relpath(path, ADDON)):
                compile(read(path), path, "exec")

    def test_dtelib_does_not_import_odoo(self):
        for path in addon_files("dtelib/*.py"):
            tree = ast.parse(read(path))
            for node in ast.walk(tree):
                names = []
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0:
                    names = [node.module or ""]
                for name in names:
                    self.assertFalse(name.split(".")[0] in ("odoo", "openerp"), f"{path} imports {name}")

    def test_every_module_is_imported(self):
        def imported(init):
            tree = ast.parse(read(init))
            return {a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names}

        self.assertEqual(imported(os.path.join(ADDON, "__init__.py")), {"controllers", "models"})
        for package in ("models", "controllers", "tests"):
            modules = {os.path.basename(p)[:-3] for p in addon_files(f"{package}/*.py")} - {"__init__"}
            wanted = {m for m in modules if package != "tests" or m.startswith("test_")}
            self.assertEqual(imported(os.path.join(ADDON, package, "__init__.py")) & modules, wanted, package)

    def test_odoo_19_python_idioms(self):
        for path in addon_files("**/*.py"):
            source = read(path)
            rel = os.path.relpath(path, ADDON)
            self.assertNotIn("_sql_constraints", source, f"{rel}: use models.Constraint in 19.0")
            self.assertNotIn("groups_id", source, f"{rel}: group_ids in 19.0")
            self.assertIsNone(re.search(r"type=['\"]json['\"]", source), f"{rel}: type='json' is deprecated in 19.0")
            tree = ast.parse(source)
            for node in ast.walk(tree):
                if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "message_post":
                    self.assertFalse(node.args, f"{rel}:{node.lineno}: message_post takes keyword arguments only")

    def test_route_contract(self):
        source = read(os.path.join(ADDON, "controllers", "callback.py"))
        route = re.search(r"@http\.route\((.*?)\)\n", source, re.S).group(1)
        for part in ("'/api/dte/callback'", "type='http'", "auth='public'", "methods=['POST']", "csrf=False"):
            self.assertIn(part, route)
        self.assertIn("make_json_response", source)

    def test_odoo_tests_are_tagged_post_install(self):
        for path in addon_files("tests/test_*.py"):
            source = read(path)
            self.assertIn("@tagged('post_install', '-at_install'", source, path)


class TestManifest(unittest.TestCase):
    def test_manifest_rules_for_19(self):
        manifest = read_manifest()
        self.assertFalse(os.path.exists(os.path.join(ADDON, "__openerp__.py")))
        self.assertTrue(manifest.get("name"))
        self.assertTrue(manifest.get("author"))
        self.assertIn(manifest.get("license"), LICENSES)
        self.assertRegex(manifest["version"], r"^19\.0\.\d+\.\d+\.\d+$")
        self.assertTrue(manifest.get("installable", True))
        self.assertTrue({"account", "l10n_cl", "mail"} <= set(manifest["depends"]))

    def test_data_files_exist_and_are_all_listed(self):
        manifest = read_manifest()
        data = manifest["data"]
        self.assertEqual(len(data), len(set(data)))
        for rel in data:
            self.assertTrue(os.path.isfile(os.path.join(ADDON, rel)), rel)
        on_disk = {os.path.relpath(p, ADDON) for folder in ("security", "data", "views")
                   for p in addon_files(f"{folder}/*") if p.endswith((".xml", ".csv"))}
        self.assertEqual(set(data), on_disk)
        self.assertEqual(data[0], "security/ir.model.access.csv")

    def test_access_rights_cover_new_models(self):
        fields_, _ = model_fields()
        new_models = set()
        for path in addon_files("models/*.py"):
            new_models.update(re.findall(r"^\s+_name = '([^']+)'", read(path), re.M))
        self.assertEqual(new_models, {"l10n_cl_dte_async.event"})
        with open(os.path.join(ADDON, "security", "ir.model.access.csv"), encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        self.assertEqual(list(rows[0].keys()), ["id", "name", "model_id:id", "group_id:id", "perm_read",
                                                "perm_write", "perm_create", "perm_unlink"])
        covered = {row["model_id:id"] for row in rows}
        for model in new_models:
            self.assertIn("model_" + model.replace(".", "_"), covered)
        for row in rows:
            self.assertTrue(row["group_id:id"], "19.0: every ACL names a group")
            self.assertIn(row["group_id:id"], EXTERNAL_REFS)
            for perm in ("perm_read", "perm_write", "perm_create", "perm_unlink"):
                self.assertIn(row[perm], ("0", "1"))


class TestXml(unittest.TestCase):
    def setUp(self):
        self.manifest = read_manifest()
        self.fields, self.methods = model_fields()

    def test_views_and_references(self):
        defined = set()
        for rel in self.manifest["data"]:
            if not rel.endswith(".xml"):
                defined.update(f"{MODULE}.model_{m.replace('.', '_')}" for m in ("l10n_cl_dte_async.event",))
                continue
            root = ET.parse(os.path.join(ADDON, rel)).getroot()
            self.assertEqual(root.tag, "odoo", rel)
            for element in root.iter():
                with self.subTest(file=rel, tag=element.tag, id=element.get("id")):
                    self.assertNotEqual(element.tag, "tree", "use <list> (17.5+)")
                    self.assertNotIn("attrs", element.attrib, "attrs was removed in 17.0")
                    self.assertNotIn("states", element.attrib, "states was removed in 17.0")
                    for attr in MODIFIERS:
                        if attr in element.attrib:
                            ast.parse(element.get(attr), mode="eval")
                    for attr in ("ref", "inherit_id", "parent", "action", "groups"):
                        for ref in (element.get(attr) or "").split(","):
                            ref = ref.strip().lstrip("!")
                            if not ref:
                                continue
                            full = ref if "." in ref else f"{MODULE}.{ref}"
                            self.assertTrue(full in defined or full in EXTERNAL_REFS, f"unknown reference {ref}")
                if element.tag in ("record", "menuitem") and element.get("id"):
                    defined.add(f"{MODULE}.{element.get('id')}")
            self.assertTrue(defined)

    def test_view_fields_and_buttons_exist(self):
        for path in addon_files("views/*.xml"):
            root = ET.parse(path).getroot()
            for record in root.iter("record"):
                if record.get("model") != "ir.ui.view":
                    continue
                fields_ = {f.get("name"): f for f in record.findall("field")}
                model = fields_["model"].text
                known = self.fields.get(model, set()) | EXTERNAL_FIELDS.get(model, set())
                arch = fields_["arch"]
                self.assertEqual(arch.get("type"), "xml")
                for element in arch.iter("field"):
                    if element is arch:
                        continue
                    name = element.get("name")
                    # fields inside an embedded list belong to the one2many's model
                    if name in ("occurred_at", "status", "result", "track_id", "sii_state", "message", "event_id") \
                            and model == "account.move":
                        self.assertIn(name, self.fields["l10n_cl_dte_async.event"])
                        continue
                    self.assertIn(name, known, f"{os.path.basename(path)}: {model}.{name}")
                for button in arch.iter("button"):
                    if button.get("type") == "object":
                        self.assertIn(button.get("name"), self.methods.get(model, set()))

    def test_settings_view_uses_app_block_setting(self):
        root = ET.parse(os.path.join(ADDON, "views", "res_config_settings_views.xml")).getroot()
        xpath = root.find(".//xpath")
        self.assertEqual(xpath.get("expr"), "//app[@name='account']")
        block = xpath.find("block")
        self.assertIsNotNone(block)
        self.assertGreaterEqual(len(block.findall("setting")), 5)

    def test_server_action_calls_an_existing_method(self):
        root = ET.parse(os.path.join(ADDON, "data", "ir_actions_server.xml")).getroot()
        code = root.find(".//field[@name='code']").text
        method = re.search(r"records\.(\w+)\(\)", code).group(1)
        self.assertIn(method, self.methods["account.move"])


class TestTranslations(unittest.TestCase):
    def test_catalogues_are_up_to_date(self):
        tool = os.path.join(_support.ODOO_DIR, "tools", "gen_i18n.py")
        result = subprocess.run([sys.executable, tool, "--check"], capture_output=True, text=True)
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_spanish_catalogue_is_complete(self):
        text = read(os.path.join(ADDON, "i18n", "es.po"))
        self.assertIn('"Language: es\\n"', text)
        pairs = re.findall(r'^msgid (".*")\nmsgstr (".*")$', text, re.M)
        self.assertGreater(len(pairs), 50)
        for msgid, msgstr in pairs[1:]:
            self.assertTrue(msgstr != '""', msgid)
        for label in ("En cola", "Enviar DTE (async)", "Estado DTE", "Aceptado con reparos"):
            self.assertIn(f'msgid "{label}"', text)


if __name__ == "__main__":
    unittest.main()
