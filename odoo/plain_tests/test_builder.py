"""Request building: every document type against the repo's JSON Schema and
the SII rules enqueue applies, plus the edge cases of Odoo data."""

import copy
import json
import os
import random
import unittest
from decimal import ROUND_HALF_UP, Decimal

import _support
import sii_rules
from dtelib import builder, jsonenc


def build(invoice):
    """Build, encode and decode: what enqueue would receive."""
    request = builder.build_request(invoice)
    return json.loads(jsonenc.dumps(request).decode("utf-8")), request


class SchemaMixin:
    @classmethod
    def setUpClass(cls):
        cls.validator = _support.schema_validator()

    def assertAccepted(self, wire):
        errors = sorted(self.validator.iter_errors(wire), key=lambda e: list(e.absolute_path))
        self.assertEqual([], [f"{list(e.absolute_path)}: {e.message}" for e in errors], "schema errors")
        self.assertEqual([], sii_rules.check(wire), "SII rule violations")

    def assertProblem(self, invoice, fragment):
        with self.assertRaises(builder.BuildError) as ctx:
            builder.build_request(invoice)
        joined = " | ".join(ctx.exception.problems)
        self.assertIn(fragment, joined)
        return ctx.exception.problems


class TestCheckersCanFail(SchemaMixin, unittest.TestCase):
    """The schema and the rule checker used below do reject bad requests."""

    def test_repo_samples_pass_both_checkers(self):
        names = sorted(os.listdir(_support.SAMPLES))
        self.assertGreaterEqual(len(names), 5)
        for name in names:
            with open(os.path.join(_support.SAMPLES, name), encoding="utf-8") as fh:
                self.assertAccepted(json.load(fh))

    def test_checkers_reject_broken_requests(self):
        wire, _ = build(_support.load_fixture(33))
        bad_amount = copy.deepcopy(wire)
        bad_amount["lines"][0]["amount"] += 1
        self.assertIn(("lines[0].amount", "line-amount"), sii_rules.check(bad_amount))
        bad_vat = copy.deepcopy(wire)
        bad_vat["totals"]["vat"] += 1
        self.assertIn(("totals.vat", "totals-vat"), sii_rules.check(bad_vat))
        bad_rut = copy.deepcopy(wire)
        bad_rut["receiver"]["rut"] = "77654321-8"
        self.assertIn(("receiver.rut", "rut"), sii_rules.check(bad_rut))
        missing = copy.deepcopy(wire)
        del missing["issuer"]["acteco"]
        self.assertTrue(list(self.validator.iter_errors(missing)))
        extra = copy.deepcopy(wire)
        extra["lines"][0]["price"] = 1
        self.assertTrue(list(self.validator.iter_errors(extra)))


class TestEachDocumentType(SchemaMixin, unittest.TestCase):
    def test_factura_33(self):
        wire, request = build(_support.load_fixture(33))
        self.assertAccepted(wire)
        self.assertEqual(builder.dtekey(request), "76086428-5-33-1042")
        self.assertEqual(wire["document"], {"type": 33, "folio": 1042, "issue_date": "2026-11-27",
                                            "payment_form": 2, "due_date": "2026-12-27"})
        self.assertEqual(wire["issuer"]["rut"], "76086428-5")  # dots removed
        self.assertEqual(wire["issuer"]["acteco"], [476101, 741000])
        self.assertEqual(wire["issuer"]["address"], "Av. Providencia 1234, oficina 56")
        first, catalog, shipping = wire["lines"]
        self.assertEqual(first["code"], "LOGO-01")
        self.assertEqual(first["name"], "Diseño de logotipo")
        self.assertEqual(first["description"], "Propuesta, dos revisiones y archivos finales")
        # Odoo rounded 2.5 × 12990.5 × 0.9 = 29228.625 to 29229; the percent rule
        # would give 29228, so the discount goes in pesos and the amount is Odoo's.
        self.assertEqual(catalog["amount"], 29229)
        self.assertEqual(catalog["discount_amount"], 3247)
        self.assertNotIn("discount_percent", catalog)
        self.assertEqual(catalog["quantity"], 2.5)
        self.assertEqual(catalog["unit_price"], 12990.5)
        self.assertTrue(shipping["exempt"])
        self.assertEqual(wire["global_adjustments"], [
            {"kind": "discount", "description": "Descuento cliente frecuente", "value_type": "$", "value": 9000}])
        self.assertEqual(wire["totals"], {"net": 170229, "exempt": 5000, "vat_rate": 19, "vat": 32344,
                                          "total": 207573})
        self.assertEqual(wire["odoo"], {"database": "odoo", "move_id": 501})

    def test_factura_exenta_34(self):
        wire, request = build(_support.load_fixture(34))
        self.assertAccepted(wire)
        self.assertEqual(builder.dtekey(request), "76086428-5-34-310")
        self.assertEqual(wire["receiver"]["rut"], "65012345-K")  # dots and lower-case k fixed
        self.assertEqual(wire["totals"], {"net": 0, "exempt": 519750, "vat": 0, "total": 519750})
        self.assertNotIn("vat_rate", wire["totals"])
        self.assertEqual(wire["document"]["payment_form"], 1)
        self.assertNotIn("due_date", wire["document"])

    def test_guia_52(self):
        wire, request = build(_support.load_fixture(52))
        self.assertAccepted(wire)
        self.assertEqual(builder.dtekey(request), "76086428-5-52-77")
        self.assertEqual(wire["document"]["transfer_type"], 1)
        self.assertEqual(wire["document"]["dispatch_type"], 2)
        self.assertNotIn("payment_form", wire["document"])
        self.assertEqual(wire["lines"][1]["unit_price"], 45990.333333)
        self.assertEqual(wire["lines"][1]["amount"], 137971)
        self.assertEqual(wire["totals"]["vat"], 58818)

    def test_nota_debito_56(self):
        wire, request = build(_support.load_fixture(56))
        self.assertAccepted(wire)
        self.assertEqual(builder.dtekey(request), "76086428-5-56-15")
        self.assertEqual(wire["references"], [{"type": "33", "folio": "1042", "date": "2026-11-27", "code": 3,
                                               "reason": "Cobro de intereses por mora"}])

    def test_nota_credito_61(self):
        wire, request = build(_support.load_fixture(61))
        self.assertAccepted(wire)
        self.assertEqual(builder.dtekey(request), "76086428-5-61-23")
        self.assertEqual(wire["references"][0]["folio"], "1042")  # leading zeros dropped
        self.assertEqual(wire["lines"][0]["name"], "Impresión de catálogos")
        self.assertEqual(wire["lines"][0]["description"], "Devolución impresión de catálogos")
        self.assertEqual(wire["totals"], {"net": 11691, "exempt": 0, "vat_rate": 19, "vat": 2221, "total": 13912})


class TestRefusals(SchemaMixin, unittest.TestCase):
    def test_34_with_vat_line(self):
        inv = _support.load_fixture(34)
        inv["lines"][0]["taxes"] = [{"name": "19% IVA", "sii_code": 14, "amount": 19, "amount_type": "percent"}]
        self.assertProblem(inv, "una factura exenta (34) no puede tener líneas afectas a IVA")

    def test_52_needs_transfer_type(self):
        inv = _support.load_fixture(52)
        inv["transfer_type"] = None
        self.assertProblem(inv, "tipo de traslado")

    def test_52_receiver_without_giro_is_fine(self):
        inv = _support.load_fixture(52)
        for key in ("activity", "street", "commune"):
            inv["partner"][key] = False
        wire, _ = build(inv)
        self.assertAccepted(wire)
        self.assertNotIn("activity", wire["receiver"])

    def test_exchange_email_goes_to_the_receiver(self):
        inv = _support.load_fixture(33)
        inv["partner"]["exchange_email"] = " dte@cliente.cl "
        wire, _ = build(inv)
        self.assertAccepted(wire)
        self.assertEqual("dte@cliente.cl", wire["receiver"]["exchange_email"])
        inv["partner"]["exchange_email"] = ""
        wire, _ = build(inv)
        self.assertNotIn("exchange_email", wire["receiver"])

    def test_exchange_email_must_be_an_address(self):
        for bad in ("dte@cliente", "DTE <dte@cliente.cl>", "a@b.cl, c@d.cl", "x" * 80 + "@b.cl"):
            inv = _support.load_fixture(33)
            inv["partner"]["exchange_email"] = bad
            self.assertProblem(inv, "Correo de intercambio DTE")

    def test_33_receiver_without_giro_address_commune(self):
        inv = _support.load_fixture(33)
        for key in ("activity", "street", "commune"):
            inv["partner"][key] = ""
        problems = self.assertProblem(inv, "no tiene giro")
        joined = " ".join(problems)
        self.assertIn("no tiene dirección", joined)
        self.assertIn("no tiene comuna", joined)

    def test_notes_need_their_origin(self):
        for doc_type, word in ((56, "débito"), (61, "crédito")):
            inv = _support.load_fixture(doc_type)
            inv["origin"] = None
            self.assertProblem(inv, f"La nota de {word} debe indicar el documento que modifica")

    def test_note_origin_must_be_a_dte_with_numeric_folio(self):
        inv = _support.load_fixture(61)
        inv["origin"]["folio"] = "F-12"
        self.assertProblem(inv, "no es un número")
        inv = _support.load_fixture(61)
        inv["origin"]["document_type"] = "30"
        self.assertProblem(inv, "no es un DTE")

    def test_note_origin_after_issue_date(self):
        inv = _support.load_fixture(61)
        inv["origin"]["date"] = "2026-11-28"
        self.assertProblem(inv, "posterior a la fecha de emisión")

    def test_note_reference_code_defaults_reason(self):
        inv = _support.load_fixture(61)
        inv["origin"]["code"] = 1
        inv["origin"]["reason"] = ""
        wire, _ = build(inv)
        self.assertAccepted(wire)
        self.assertEqual(wire["references"][0]["reason"], "Anula documento")

    def test_ruts(self):
        inv = _support.load_fixture(33)
        inv["partner"]["rut"] = "77654321-8"
        self.assertProblem(inv, "dígito verificador incorrecto (debería terminar en 7)")
        inv = _support.load_fixture(33)
        inv["company"]["rut"] = False
        self.assertProblem(inv, "La empresa no tiene RUT")
        inv = _support.load_fixture(33)
        inv["partner"]["rut"] = "hello"
        self.assertProblem(inv, "no tiene el formato de un RUT")
        for spelling in ("CL776543217", "77.654.321-7", " 077654321-7 "):
            inv = _support.load_fixture(33)
            inv["partner"]["rut"] = spelling
            wire, _ = build(inv)
            self.assertEqual(wire["receiver"]["rut"], "77654321-7")

    def test_company_configuration(self):
        inv = _support.load_fixture(33)
        inv["company"]["acteco"] = ""
        self.assertProblem(inv, "ACTECO")
        inv = _support.load_fixture(33)
        inv["company"]["sii_resolution_date"] = None
        self.assertProblem(inv, "fecha de resolución")
        inv = _support.load_fixture(33)
        inv["company"]["activity"] = ""
        self.assertProblem(inv, "La empresa no tiene giro")

    def test_document_type_folio_currency(self):
        inv = _support.load_fixture(33)
        inv["document_type"] = "39"
        self.assertProblem(inv, "solo 33, 34, 52, 56 y 61")
        inv = _support.load_fixture(33)
        inv["folio"] = "A-12"
        self.assertProblem(inv, "El folio «A-12» no es un número")
        inv = _support.load_fixture(33)
        inv["currency"] = "USD"
        self.assertProblem(inv, "pesos chilenos (CLP)")
        inv = _support.load_fixture(33)
        inv["invoice_date"] = "1999-12-31"
        self.assertProblem(inv, "fuera del rango")

    def test_many_problems_at_once(self):
        inv = _support.load_fixture(33)
        inv["company"]["rut"] = ""
        inv["partner"]["activity"] = ""
        inv["lines"][0]["quantity"] = "0.1234567"
        problems = self.assertProblem(inv, "no tiene RUT")
        self.assertGreaterEqual(len(problems), 3)

    def test_too_many_decimals_is_refused_not_rounded(self):
        inv = _support.load_fixture(33)
        inv["lines"][0]["quantity"] = 1.0000001
        self.assertProblem(inv, "tiene más de 6 decimales")
        inv = _support.load_fixture(33)
        inv["lines"][0]["price_unit"] = "150000.0000001"
        self.assertProblem(inv, "tiene más de 6 decimales")

    def test_unsupported_taxes(self):
        inv = _support.load_fixture(33)
        inv["lines"][0]["taxes"].append({"name": "ILA 10%", "sii_code": 27, "amount": 10, "amount_type": "percent"})
        self.assertProblem(inv, "no está soportado")
        inv = _support.load_fixture(33)
        inv["lines"][0]["taxes"][0]["price_include"] = True
        self.assertProblem(inv, "incluido en el precio")

    def test_line_subtotal_must_match(self):
        inv = _support.load_fixture(33)
        inv["lines"][0]["subtotal"] = 150001.0
        self.assertProblem(inv, "no coincide con cantidad × precio")

    def test_odoo_totals_must_match_sii_rounding(self):
        # Two lines of 1003: Odoo rounding VAT per line gives 191 + 191 = 382,
        # the SII rounds on the total: 2006 × 19 % = 381.14 -> 381.
        inv = _support.load_fixture(56)
        line = inv["lines"][0]
        line.update(price_unit=1003.0, subtotal=1003.0)
        inv["lines"] = [line, dict(line)]
        inv["odoo_totals"] = {"untaxed": 2006.0, "tax": 382.0, "total": 2388.0}
        self.assertProblem(inv, "Redondear globalmente")
        inv["odoo_totals"] = {"untaxed": 2006.0, "tax": 381.0, "total": 2387.0}
        wire, _ = build(inv)
        self.assertAccepted(wire)
        self.assertEqual(wire["totals"]["vat"], 381)

    def test_negative_lines_beyond_amount(self):
        inv = _support.load_fixture(56)
        inv["lines"].append({"name": "Descuento", "quantity": 1, "price_unit": -20000, "subtotal": -20000,
                             "taxes": inv["lines"][0]["taxes"]})
        inv["odoo_totals"] = None
        self.assertProblem(inv, "superan el monto")


class TestOdooShapes(SchemaMixin, unittest.TestCase):
    def test_discount_that_agrees_with_the_percent_rule(self):
        inv = _support.load_fixture(56)
        inv["lines"][0].update(quantity=3, price_unit=1000, discount=12.5, subtotal=2625)
        inv["odoo_totals"] = None
        wire, _ = build(inv)
        self.assertAccepted(wire)
        line = wire["lines"][0]
        self.assertEqual((line["discount_percent"], line["discount_amount"], line["amount"]), (12.5, 375, 2625))

    def test_zero_quantity_and_sign_flips(self):
        inv = _support.load_fixture(56)
        taxes = inv["lines"][0]["taxes"]
        inv["lines"].append({"name": "Sin cargo", "quantity": 0, "price_unit": 500, "subtotal": 0, "taxes": taxes})
        inv["lines"].append({"name": "Doble negativo", "quantity": -2, "price_unit": -100, "subtotal": 200,
                             "taxes": taxes})
        inv["odoo_totals"] = {"untaxed": 12700, "tax": 2413, "total": 15113}
        wire, _ = build(inv)
        self.assertAccepted(wire)
        self.assertEqual(wire["lines"][1], {"name": "Sin cargo", "amount": 0})
        self.assertEqual((wire["lines"][2]["quantity"], wire["lines"][2]["unit_price"]), (2, 100))

    def test_texts_are_sanitised_and_cut_amounts_untouched(self):
        inv = _support.load_fixture(33)
        inv["company"]["name"] = "Empresa “Comillas” — Ñandú " + "x" * 200
        inv["company"]["activity"] = "Giro 😀 " * 30
        inv["partner"]["name"] = "Łódź Trading €"
        inv["partner"]["activity"] = "Actividad muy larga " * 5
        inv["partner"]["street"] = "Calle\tcon\ncontrol\x07 " * 10
        inv["partner"]["commune"] = "Comuna con nombre larguísimo"
        inv["lines"][0]["product_name"] = "Producto " * 20
        inv["lines"][0]["name"] = "línea\n" + "descripción " * 200
        inv["origin"] = None
        wire, _ = build(inv)
        self.assertAccepted(wire)
        self.assertTrue(wire["issuer"]["name"].startswith('Empresa "Comillas" - Ñandú'))
        self.assertLessEqual(len(wire["issuer"]["name"]), 100)
        self.assertLessEqual(len(wire["issuer"]["activity"]), 80)
        self.assertEqual(wire["receiver"]["name"], "Lódz Trading EUR")
        self.assertLessEqual(len(wire["receiver"]["activity"]), 40)
        self.assertLessEqual(len(wire["receiver"]["address"]), 70)
        self.assertEqual(wire["receiver"]["commune"], "Comuna con nombre la")
        self.assertLessEqual(len(wire["lines"][0]["name"]), 80)
        self.assertLessEqual(len(wire["lines"][0]["description"]), 1000)
        self.assertEqual(wire["totals"]["total"], 207573)

    def test_acteco(self):
        self.assertEqual(builder.parse_acteco("476101, 741000;620200"), [476101, 741000, 620200])
        self.assertEqual(builder.parse_acteco([476101, "476101"]), [476101])
        with self.assertRaises(ValueError):
            builder.parse_acteco("1, 2, 3, 4, 5")
        with self.assertRaises(ValueError):
            builder.parse_acteco("47610A")
        with self.assertRaises(ValueError):
            builder.parse_acteco("1234567")

    def test_dtekey_for(self):
        self.assertEqual(builder.dtekey_for("76.086.428-5", "33", "000042"), "76086428-5-33-42")
        self.assertIsNone(builder.dtekey_for("76086428-4", "33", "42"))
        self.assertIsNone(builder.dtekey_for("76086428-5", "33", "A1"))
        self.assertIsNone(builder.dtekey_for(False, "33", "1"))


def _odoo_round(value):
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


class TestRandomInvoices(SchemaMixin, unittest.TestCase):
    """Invoices shaped like Odoo's (2-decimal quantities, prices and discounts,
    subtotals rounded as Odoo rounds them, VAT rounded globally) always yield a
    request that passes the schema and the SII rules with Odoo's own totals."""

    def test_random_invoices(self):
        rng = random.Random(20261127)
        vat = [{"name": "19% IVA", "sii_code": 14, "amount": 19.0, "amount_type": "percent", "price_include": False}]
        for case in range(300):
            doc_type = rng.choice((33, 34, 52, 56, 61))
            inv = _support.load_fixture(doc_type)
            lines, net, exempt = [], 0, 0
            for _ in range(rng.randint(1, 8)):
                qty = Decimal(rng.randint(1, 50000)) / rng.choice((1, 10, 100))
                price = Decimal(rng.randint(0, 9_000_000)) / rng.choice((1, 10, 100))
                disc = Decimal(rng.choice((0, 0, 0, rng.randint(1, 9999)))) / 100
                taxed = doc_type != 34 and rng.random() < 0.8
                subtotal = _odoo_round(qty * price * (1 - disc / 100))
                lines.append({"name": f"Item {len(lines)}", "quantity": float(qty), "price_unit": float(price),
                              "discount": float(disc), "subtotal": float(subtotal), "taxes": vat if taxed else []})
                if taxed:
                    net += subtotal
                else:
                    exempt += subtotal
            tax = _odoo_round(Decimal(net) * 19 / 100)
            inv["lines"] = lines
            inv["odoo_totals"] = {"untaxed": net + exempt, "tax": tax, "total": net + exempt + tax}
            with self.subTest(case=case, doc_type=doc_type):
                wire, _ = build(inv)
                self.assertAccepted(wire)
                self.assertEqual(wire["totals"]["total"], net + exempt + tax)


if __name__ == "__main__":
    unittest.main()
