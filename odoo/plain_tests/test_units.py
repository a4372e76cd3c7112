"""Small pieces: decimals, texts, RUT, JSON encoding, Spanish messages."""

import json
import unittest
from decimal import Decimal

import _support  # noqa: F401  (sys.path)
from dtelib import decimals, enqueue_client, jsonenc, messages, problems, rut, texts
from dtelib import transitions as t


class TestDecimals(unittest.TestCase):
    def test_floats_become_their_shortest_decimal(self):
        self.assertEqual(decimals.to_decimal(2.5), Decimal("2.5"))
        self.assertEqual(decimals.to_decimal(0.1), Decimal("0.1"))
        self.assertEqual(decimals.to_decimal(45990.333333), Decimal("45990.333333"))
        self.assertEqual(decimals.to_decimal("12990.50"), Decimal("12990.50"))
        for bad in (True, None, float("nan"), float("inf"), "abc", [1]):
            with self.assertRaises(decimals.DecimalError):
                decimals.to_decimal(bad)

    def test_round_half_up(self):
        self.assertEqual(decimals.round_half_up(Decimal("0.5")), 1)
        self.assertEqual(decimals.round_half_up(Decimal("2.5")), 3)  # not banker's rounding
        self.assertEqual(decimals.round_half_up(Decimal("2.4999999")), 2)
        self.assertEqual(decimals.round_half_up(Decimal("29228.625")), 29229)

    def test_products_are_exact(self):
        big = Decimal("999999999999.999999")
        exact = Decimal("999999999999999998000000.000000000001")
        self.assertEqual(decimals.mul(big, big), exact)
        self.assertNotEqual(big * big, exact)  # the default 28-digit context would round
        self.assertEqual(decimals.plain(decimals.mul(Decimal("3"), Decimal("45990.333333"))), "137970.999999")

    def test_scale_and_plain(self):
        self.assertEqual(decimals.scale(Decimal("1.500")), 1)
        self.assertEqual(decimals.scale(Decimal("100")), 0)
        self.assertEqual(decimals.scale(Decimal("1E+2")), 0)
        self.assertEqual(decimals.plain(Decimal("1E+2")), "100")
        self.assertEqual(decimals.plain(Decimal("2.50")), "2.5")
        self.assertEqual(decimals.plain(Decimal("-0.0")), "0")


class TestTexts(unittest.TestCase):
    def test_latin1(self):
        self.assertEqual(texts.latin1("Ñandú “quoted” – ok…"), 'Ñandú "quoted" - ok...')
        self.assertEqual(texts.latin1("a\x00b\x07c\x85d"), "abcd")
        self.assertEqual(texts.latin1("two\nlines\tand  spaces"), "two lines and spaces")
        self.assertEqual(texts.latin1("two\n lines ", multiline=True), "two\nlines")
        self.assertEqual(texts.latin1("😀 x"), "? x")
        self.assertEqual(texts.latin1("Škoda"), "Skoda")
        self.assertTrue(texts.is_latin1(texts.latin1("漢字 ok")))

    def test_field_cuts(self):
        self.assertEqual(texts.field("abcdef", 3), "abc")
        self.assertEqual(texts.field("ab   cdef", 4), "ab c")
        self.assertEqual(texts.field(None, 3), "")
        self.assertEqual(texts.field(False, 3), "")


class TestRut(unittest.TestCase):
    def test_normalize(self):
        for raw in ("76086428-5", "76.086.428-5", "CL760864285", "760864285", " 76086428-5 ", "076086428-5"):
            self.assertEqual(rut.normalize(raw), "76086428-5")
        self.assertEqual(rut.normalize("65.012.345-k"), "65012345-K")

    def test_errors(self):
        cases = {"": "missing", None: "missing", False: "missing", "76086428-4": "check",
                 "7608642A-5": "format", "123456789-0": "format", "1-2-3": "format", "-5": "format"}
        for raw, kind in cases.items():
            with self.subTest(raw=raw):
                with self.assertRaises(rut.RutError) as ctx:
                    rut.normalize(raw)
                self.assertEqual(ctx.exception.kind, kind)

    def test_check_digit(self):
        self.assertEqual(rut.check_digit(76086428), "5")
        self.assertEqual(rut.check_digit(65012345), "K")
        self.assertEqual(rut.check_digit(96790240), "3")


class TestJson(unittest.TestCase):
    def test_exact_and_compact(self):
        doc = {"a": Decimal("2.50"), "b": [1, True, None, "ñ"], "c": {"d": Decimal("45990.333333")}}
        raw = jsonenc.dumps(doc)
        self.assertEqual(raw, '{"a":2.5,"b":[1,true,null,"ñ"],"c":{"d":45990.333333}}'.encode())
        self.assertEqual(json.loads(raw)["c"]["d"], 45990.333333)

    def test_refuses_floats(self):
        with self.assertRaises(TypeError):
            jsonenc.dumps({"x": 0.1})
        with self.assertRaises(TypeError):
            jsonenc.dumps({1: 2})


class TestMessages(unittest.TestCase):
    def test_chatter_texts(self):
        self.assertEqual(messages.chatter_text(t.SENT, track_id="123456"), "Enviado al SII (TrackID 123456)")
        self.assertEqual(messages.chatter_text(t.ACCEPTED), "Aceptado por el SII")
        self.assertEqual(messages.chatter_text(t.OBJECTED, message="Reparo en giro"),
                         "Aceptado con reparos por el SII: Reparo en giro")
        rejected = messages.chatter_text(t.REJECTED, sii_state="RCH", message="DTE Rechazado: firma")
        first, _, next_step = rejected.partition("\n")
        self.assertEqual(first, "Rechazado: DTE Rechazado: firma")
        # a rejection says what to do next: a new document, the detail by the SII's e-mail
        self.assertEqual(next_step, messages.REJECTED_NEXT_STEP)
        for fragment in ("emita un documento nuevo", "otro folio", "correo del SII"):
            self.assertIn(fragment, next_step)
        self.assertEqual(messages.chatter_text(t.REJECTED, sii_state="RCH").split("\n")[0], "Rechazado: RCH")
        self.assertEqual(messages.chatter_text(t.ERROR, message="sign: folio fuera de CAF"),
                         "Error: sign: folio fuera de CAF")
        retrying = messages.chatter_text(t.RETRYING, message="Falló el envío al SII (intento 3): SII 503. Próximo intento automático: 2026-03-02 10:01 UTC")
        self.assertIn("Reintentando automáticamente", retrying)
        self.assertIn("Próximo intento automático: 2026-03-02 10:01 UTC", retrying)
        self.assertEqual(messages.STATUS_LABELS[t.RETRYING], "Reintentando")
        warning = messages.final_error_warning(t.ACCEPTED, "Falló la firma: folio already used")
        self.assertIn("«Aceptado»", warning)
        self.assertIn("no se emitió", warning)
        self.assertIn("folio already used", warning)
        for status in t.EVENT_STATUSES:
            self.assertTrue(messages.chatter_text(status))
        with self.assertRaises(ValueError):
            messages.chatter_text(t.NOT_SENT)
        self.assertEqual(set(messages.STATUS_LABELS), set(t.STATUSES))

    def test_frozen_texts_name_the_status_and_the_way_out(self):
        text = messages.frozen_text(t.ACCEPTED, "FAC 000001", "draft")
        self.assertTrue(text.startswith("No se puede volver a borrador FAC 000001: su DTE está «Aceptado»"), text)
        self.assertIn("nota de crédito", text)
        text = messages.frozen_text(t.QUEUED, "FAC 000002", "delete")
        self.assertTrue(text.startswith("No se puede eliminar FAC 000002: su DTE está «En cola»"), text)
        self.assertIn("espere la respuesta del SII", text)
        text = messages.frozen_text(t.SENT, "FAC 000003", fields=["Cliente", "Fecha de factura"])
        self.assertTrue(text.startswith("No se puede modificar «Cliente», «Fecha de factura» de FAC 000003: "
                                        "su DTE está «Enviado al SII»"), text)
        text = messages.frozen_text(t.REJECTED, "FAC 000004", "post")
        self.assertTrue(text.startswith("No se puede validar de nuevo FAC 000004: su DTE está «Rechazado»"), text)
        self.assertIn("emita un documento nuevo", text)
        self.assertIn("Enviar DTE (async)", messages.frozen_text(t.ERROR, "FAC 5", "cancel"))
        for status in t.STATUSES:
            for action in messages.FROZEN_ACTIONS:
                self.assertIn(messages.STATUS_LABELS[status], messages.frozen_text(status, "X", action))
            if status != t.NOT_SENT:
                self.assertTrue(messages.frozen_next_step(status), status)

    def test_reference_reasons_in_spanish_by_code(self):
        self.assertEqual(messages.reference_reason(1, "FAC 000001"), "Anula documento FAC 000001")
        self.assertEqual(messages.reference_reason(2, "FAC 000001"), "Corrige texto")
        self.assertEqual(messages.reference_reason(3, "FAC 000001"), "Corrige montos")
        with self.assertRaises(ValueError):
            messages.reference_reason(4)

    def test_problem_labels(self):
        self.assertEqual(problems.field_label("lines[2].unit_price"), "Línea 3 · precio unitario")
        self.assertEqual(problems.field_label("issuer.sii_resolution.date"), "Empresa · resolución del SII · fecha")
        self.assertEqual(problems.field_label("references[0].code"), "Referencia 1 · código")
        self.assertEqual(problems.field_label("totals.exempt"), "Totales · exento")
        self.assertEqual(problems.field_label("(request)"), "Solicitud")

    def test_problem_without_errors(self):
        self.assertEqual(problems.spanish_errors({"detail": "x"}), ["La solicitud no es válida (detalle: x)."])
        self.assertTrue(problems.spanish_errors(None))
        lines = problems.spanish_errors({"errors": [{"field": "document.folio", "rule": "new-rule"}]})
        self.assertEqual(lines, ["Documento · folio: no es válido"])

    def test_every_error_kind_has_a_message(self):
        for kind in ("invalid", "unauthorized", "conflict", "too_large", "unsupported", "unavailable", "server_error",
                     "timeout", "connection", "config", "unexpected"):
            text = messages.enqueue_error(enqueue_client.EnqueueResult(kind, status=599))
            self.assertTrue(text)

    def test_conflict_names_the_document(self):
        result = enqueue_client.classify(409, json.dumps({
            "type": "https://github.com/dtecl/pipeline/problems/folio-used", "title": "Folio already used", "status": 409,
            "detail": "…", "dtekey": "76086428-5-33-1042", "document_status": "accepted"}).encode())
        self.assertEqual(result.kind, "conflict")
        text = messages.enqueue_error(result)
        self.assertIn("76086428-5-33-1042", text)
        self.assertIn("«Aceptado»", text)
        self.assertIn("folio nuevo", text)


if __name__ == "__main__":
    unittest.main()
