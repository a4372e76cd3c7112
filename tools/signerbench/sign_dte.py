#!/usr/bin/python3
"""The Python/OpenSSL peer of `make bench-signer`: lxml builds the DTE,
OpenSSL (python3-cryptography) stamps the TED with the CAF key and xmlsec
(python3-xmlsec, libxmlsec1-openssl) signs it: RSA-SHA1, inclusive C14N,
KeyValue + X509Certificate, the stack of the Chilean modules of the Odoo
world. With -flavour openssl the Signature is made without xmlsec: lxml's
C14N of Documento, a SignedInfo template, OpenSSL's RSA (what modules
that do without xmlsec do). Either way it writes the same document as
shared/dte for the same request, CAF, certificate and time (the benchmark
checks that the digests and the signature values are equal), so both
sides do the same work.

Run by tools/signerbench with /usr/bin/python3 and Debian's python3-lxml,
python3-xmlsec and python3-cryptography:

  sign_dte.py --fixture DIR --request FILE --at 2026-11-27T10:00:00 --out F.xml
      one DTE signed at that time (TmstFirma, TSTED), for the comparison
  sign_dte.py --fixture DIR --request FILE --for 3
      sign for 3 seconds; one JSON line: documents, CPU and wall seconds

The request is one of samples/requests/ (already validated by the Go side:
this script builds, it does not check).
"""

import argparse
import base64
import copy
import decimal
import glob
import hashlib
import json
import os
import sys
import time

import cryptography
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from lxml import etree
import xmlsec

SII = "http://www.sii.cl/SiiDte"
NSMAP = {None: SII}


def q(tag):
    return "{%s}%s" % (SII, tag)


def entities(s):
    """The five XML entities: how the SII flattens DA and DD."""
    return (s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&apos;"))


def flatten(el):
    """An element as the SII signs it: no namespaces, no whitespace between
    tags, the five entities (shared/caf Flatten)."""
    out = ["<", etree.QName(el).localname]
    for k, v in el.attrib.items():
        out += [" ", k, '="', entities(v), '"']
    out.append(">")
    if el.text and el.text.strip():
        out.append(entities(el.text))
    for c in el:
        out.append(flatten(c))
        if c.tail and c.tail.strip():
            out.append(entities(c.tail))
    out += ["</", etree.QName(el).localname, ">"]
    return "".join(out)


def in_sii(el):
    """A copy of el and its descendants in the SiiDte namespace, what a CAF
    becomes inside a DTE; whitespace-only text dropped."""
    c = etree.Element(q(etree.QName(el).localname), dict(el.attrib), nsmap=NSMAP)
    if el.text and el.text.strip():
        c.text = el.text
    for child in el:
        c.append(in_sii(child))
    return c


class CAF:
    def __init__(self, path):
        # The SII writes CAF files in ISO-8859-1 without saying so.
        root = etree.parse(path, etree.XMLParser(remove_blank_text=True, encoding="ISO-8859-1")).getroot()
        caf = root.find("CAF")
        self.element = in_sii(caf)
        self.flat = flatten(caf)
        self.key = serialization.load_pem_private_key(root.findtext("RSASK").strip().encode(), password=None)

    def sign(self, dd):
        return self.key.sign(dd, padding.PKCS1v15(), hashes.SHA1())


def number(v):
    """A JSON decimal as the SII's decimal types write it: no exponent, no
    trailing zeros."""
    if isinstance(v, int):
        return str(v)
    return format(v.normalize(), "f")


def cut(s, n):
    return s[:n]


def sub(parent, tag, text=None):
    e = etree.SubElement(parent, q(tag))
    if text is not None:
        e.text = text
    return e


def opt(parent, tag, value, n):
    if value:
        sub(parent, tag, cut(value, n))


def build(req, caf, ts):
    """The DTE element with Documento (Encabezado … Referencia, TED,
    TmstFirma), not yet signed, and Documento's ID."""
    d, iss, rec, tot = req["document"], req["issuer"], req["receiver"], req["totals"]
    typ, folio = d["type"], d["folio"]
    doc_id = "F%dT%d" % (folio, typ)
    dte = etree.Element(q("DTE"), {"version": "1.0"}, nsmap=NSMAP)
    doc = sub(dte, "Documento")
    doc.set("ID", doc_id)
    enc = sub(doc, "Encabezado")
    idd = sub(enc, "IdDoc")
    sub(idd, "TipoDTE", str(typ))
    sub(idd, "Folio", str(folio))
    sub(idd, "FchEmis", d["issue_date"])
    if typ == 52:
        if d.get("dispatch_type"):
            sub(idd, "TipoDespacho", str(d["dispatch_type"]))
        sub(idd, "IndTraslado", str(d["transfer_type"]))
    if d.get("payment_form"):
        sub(idd, "FmaPago", str(d["payment_form"]))
    if d.get("due_date"):
        sub(idd, "FchVenc", d["due_date"])
    em = sub(enc, "Emisor")
    sub(em, "RUTEmisor", iss["rut"])
    sub(em, "RznSoc", cut(iss["name"], 100))
    sub(em, "GiroEmis", cut(iss["activity"], 80))
    opt(em, "Telefono", iss.get("phone"), 20)
    opt(em, "CorreoEmisor", iss.get("email"), 80)
    for a in iss["acteco"]:
        sub(em, "Acteco", str(a))
    if iss.get("branch_code"):
        sub(em, "CdgSIISucur", str(iss["branch_code"]))
    sub(em, "DirOrigen", cut(iss["address"], 70))
    sub(em, "CmnaOrigen", cut(iss["commune"], 20))
    opt(em, "CiudadOrigen", iss.get("city"), 20)
    re = sub(enc, "Receptor")
    sub(re, "RUTRecep", rec["rut"])
    rsr = cut(rec["name"], 100)
    sub(re, "RznSocRecep", rsr)
    for tag, key, n in (("GiroRecep", "activity", 40), ("Contacto", "contact", 80), ("CorreoRecep", "email", 80),
                        ("DirRecep", "address", 70), ("CmnaRecep", "commune", 20), ("CiudadRecep", "city", 20)):
        opt(re, tag, rec.get(key), n)
    t = sub(enc, "Totales")
    if typ == 34:
        sub(t, "MntExe", str(tot["exempt"]))
    else:
        affected = tot["net"] > 0 or typ == 33
        if affected:
            sub(t, "MntNeto", str(tot["net"]))
        if tot["exempt"] > 0:
            sub(t, "MntExe", str(tot["exempt"]))
        if affected:
            sub(t, "TasaIVA", "19")
            sub(t, "IVA", str(tot["vat"]))
    sub(t, "MntTotal", str(tot["total"]))
    it1 = ""
    for i, l in enumerate(req["lines"]):
        det = sub(doc, "Detalle")
        sub(det, "NroLinDet", str(i + 1))
        if l.get("code"):
            c = sub(det, "CdgItem")
            sub(c, "TpoCodigo", "INT1")
            sub(c, "VlrCodigo", cut(l["code"], 35))
        if l.get("exempt") or typ == 34:
            sub(det, "IndExe", "1")
        name = cut(l["name"], 80)
        if i == 0:
            it1 = cut(name, 40)
        sub(det, "NmbItem", name)
        opt(det, "DscItem", l.get("description"), 1000)
        if l.get("quantity"):
            sub(det, "QtyItem", number(l["quantity"]))
        opt(det, "UnmdItem", l.get("unit"), 4)
        if l.get("unit_price"):
            sub(det, "PrcItem", number(l["unit_price"]))
        if l.get("discount_percent"):
            sub(det, "DescuentoPct", number(l["discount_percent"]))
        if l.get("discount_amount"):
            sub(det, "DescuentoMonto", str(l["discount_amount"]))
        sub(det, "MontoItem", str(l["amount"]))
    for i, a in enumerate(req.get("global_adjustments") or ()):
        g = sub(doc, "DscRcgGlobal")
        sub(g, "NroLinDR", str(i + 1))
        sub(g, "TpoMov", "D" if a["kind"] == "discount" else "R")
        opt(g, "GlosaDR", a.get("description"), 45)
        sub(g, "TpoValor", a["value_type"])
        sub(g, "ValorDR", number(a["value"]))
        if a.get("exempt") or typ == 34:
            sub(g, "IndExeDR", "1")
    for i, r in enumerate(req.get("references") or ()):
        ref = sub(doc, "Referencia")
        sub(ref, "NroLinRef", str(i + 1))
        sub(ref, "TpoDocRef", r["type"])
        sub(ref, "FolioRef", r["folio"])
        sub(ref, "FchRef", r["date"])
        if r.get("code"):
            sub(ref, "CodRef", str(r["code"]))
        opt(ref, "RazonRef", r.get("reason"), 90)

    # The TED: DD flattened in ISO-8859-1 is what FRMT signs.
    rsr40 = cut(rsr, 40)
    dd_flat = ("<DD><RE>%s</RE><TD>%d</TD><F>%d</F><FE>%s</FE><RR>%s</RR><RSR>%s</RSR><MNT>%d</MNT><IT1>%s</IT1>%s<TSTED>%s</TSTED></DD>"
               % (iss["rut"], typ, folio, d["issue_date"], rec["rut"], entities(rsr40), tot["total"], entities(it1), caf.flat, ts))
    frmt = caf.sign(dd_flat.encode("iso-8859-1"))
    ted = sub(doc, "TED")
    ted.set("version", "1.0")
    dd = sub(ted, "DD")
    for tag, text in (("RE", iss["rut"]), ("TD", str(typ)), ("F", str(folio)), ("FE", d["issue_date"]),
                      ("RR", rec["rut"]), ("RSR", rsr40), ("MNT", str(tot["total"])), ("IT1", it1)):
        sub(dd, tag, text)
    dd.append(copy.deepcopy(caf.element))
    sub(dd, "TSTED", ts)
    f = sub(ted, "FRMT", base64.b64encode(frmt).decode())
    f.set("algoritmo", "SHA1withRSA")
    sub(doc, "TmstFirma", ts)
    return dte, doc, doc_id


DSIG = "http://www.w3.org/2000/09/xmldsig#"
C14N = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
# SignedInfo in canonical form; %%s: the namespace declaration (on the
# signed form only), the ID, the digest.
SIGNED_INFO = ('<SignedInfo%%s><CanonicalizationMethod Algorithm="%s"></CanonicalizationMethod>'
               '<SignatureMethod Algorithm="%srsa-sha1"></SignatureMethod><Reference URI="#%%s"><Transforms>'
               '<Transform Algorithm="%s"></Transform></Transforms><DigestMethod Algorithm="%ssha1"></DigestMethod>'
               '<DigestValue>%%s</DigestValue></Reference></SignedInfo>') % (C14N, DSIG, C14N, DSIG)


class Signer:
    def __init__(self, fixture, flavour):
        self.flavour = flavour
        with open(os.path.join(fixture, "signer-key.pem"), "rb") as f:
            key_pem = f.read()
        with open(os.path.join(fixture, "signer.pem"), "rb") as f:
            cert_pem = f.read()
        self.key = xmlsec.Key.from_memory(key_pem, xmlsec.constants.KeyDataFormatPem)
        self.key.load_cert_from_memory(cert_pem, xmlsec.constants.KeyDataFormatPem)
        self.rsa = serialization.load_pem_private_key(key_pem, password=None)
        cafs = glob.glob(os.path.join(fixture, "caf", "*.xml"))
        if len(cafs) != 1:
            raise SystemExit("sign_dte.py: want one CAF in %s/caf, found %d" % (fixture, len(cafs)))
        self.caf = CAF(cafs[0])
        cert = x509.load_pem_x509_certificate(cert_pem)
        pub = cert.public_key().public_numbers()
        b64int = lambda i: base64.b64encode(i.to_bytes((i.bit_length() + 7) // 8, "big")).decode()
        self.key_info = (
            "<KeyInfo><KeyValue><RSAKeyValue><Modulus>%s</Modulus><Exponent>%s</Exponent></RSAKeyValue></KeyValue>"
            "<X509Data><X509Certificate>%s</X509Certificate></X509Data></KeyInfo>"
            % (b64int(pub.n), b64int(pub.e), base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()))

    def sign(self, req, ts):
        return self.sign_xmlsec(req, ts) if self.flavour == "xmlsec" else self.sign_openssl(req, ts)

    def sign_openssl(self, req, ts):
        """One signed DTE without xmlsec: lxml's C14N of Documento, SHA-1,
        SignedInfo from a template, OpenSSL's RSA (python3-cryptography),
        the Signature parsed in."""
        dte, doc, doc_id = build(req, self.caf, ts)
        # tostring(doc, method="c14n") in place puts xmlns="" on Documento's
        # grandchildren (lxml 4.9); a copy of the subtree comes out right.
        c14n = etree.tostring(copy.deepcopy(doc), method="c14n")
        digest = base64.b64encode(hashlib.sha1(c14n).digest()).decode()
        canonical = SIGNED_INFO % (' xmlns="%s"' % DSIG, doc_id, digest)
        value = self.rsa.sign(canonical.encode(), padding.PKCS1v15(), hashes.SHA1())
        dte.append(etree.fromstring('<Signature xmlns="%s">%s<SignatureValue>%s</SignatureValue>%s</Signature>'
                                    % (DSIG, SIGNED_INFO % ("", doc_id, digest), base64.b64encode(value).decode(), self.key_info)))
        return etree.tostring(dte, xml_declaration=True, encoding="ISO-8859-1")

    def sign_xmlsec(self, req, ts):
        """One signed DTE as ISO-8859-1 bytes with its XML declaration:
        xmlsec writes the Signature from a template."""
        dte, doc, doc_id = build(req, self.caf, ts)
        sig = xmlsec.template.create(dte, xmlsec.constants.TransformInclC14N, xmlsec.constants.TransformRsaSha1)
        dte.append(sig)
        ref = xmlsec.template.add_reference(sig, xmlsec.constants.TransformSha1, uri="#" + doc_id)
        xmlsec.template.add_transform(ref, xmlsec.constants.TransformInclC14N)
        ki = xmlsec.template.ensure_key_info(sig)
        xmlsec.template.add_key_value(ki)
        xmlsec.template.x509_data_add_certificate(xmlsec.template.add_x509_data(ki))
        # The template puts line breaks between its elements; without them
        # SignedInfo is the Go side's byte for byte.
        for el in sig.iter():
            el.text = el.tail = None
        ctx = xmlsec.SignatureContext()
        ctx.key = self.key
        ctx.register_id(doc, "ID")
        ctx.sign(sig)
        return etree.tostring(dte, xml_declaration=True, encoding="ISO-8859-1")


def timestamp():
    """TmstFirma in Chile time, as the Go side writes it."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime())


def bare_rsa(signer, seconds):
    """Bare RSA-2048 PKCS#1 v1.5 SHA-1 signatures per CPU second (OpenSSL)."""
    n, c0, w0 = 0, time.process_time(), time.monotonic()
    while time.monotonic() - w0 < seconds:
        signer.rsa.sign(b"reference", padding.PKCS1v15(), hashes.SHA1())
        n += 1
    return n / (time.process_time() - c0)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("-fixture", "--fixture", required=True)
    p.add_argument("-request", "--request", required=True)
    p.add_argument("-at", "--at", help="sign one DTE at this time (YYYY-MM-DDTHH:MM:SS) into --out")
    p.add_argument("-out", "--out")
    p.add_argument("-for", "--for", dest="seconds", type=float, default=3.0)
    p.add_argument("-flavour", "--flavour", choices=("xmlsec", "openssl"), default="xmlsec",
                   help="xmlsec signs (default), or lxml C14N + OpenSSL RSA without xmlsec")
    a = p.parse_args()
    os.environ["TZ"] = "America/Santiago"
    time.tzset()
    xmlsec.base64_default_line_size(1 << 16)  # base64 on one line, as the Go side writes it (0 is refused)
    with open(a.request, "rb") as f:
        req = json.loads(f.read().decode("utf-8"), parse_float=decimal.Decimal)
    s = Signer(a.fixture, a.flavour)
    if a.at:
        if not a.out:
            p.error("--at needs --out")
        with open(a.out, "wb") as f:
            f.write(s.sign(req, a.at))
        return
    size = len(s.sign(req, timestamp()))
    n, c0, w0 = 0, time.process_time(), time.monotonic()
    while True:
        s.sign(req, timestamp())
        n += 1
        if time.monotonic() - w0 >= a.seconds:
            break
    cpu, wall = time.process_time() - c0, time.monotonic() - w0
    rsa = bare_rsa(s, min(1.0, a.seconds / 3))
    from cryptography.hazmat.backends.openssl.backend import backend
    print(json.dumps({
        "docs": n, "cpu_seconds": cpu, "wall_seconds": wall, "bytes": size, "rsa_per_cpu_second": rsa,
        "stack": "lxml %s, %s, %s" % (".".join(map(str, etree.LXML_VERSION[:3])),
                                      "xmlsec %s" % xmlsec.__version__ if a.flavour == "xmlsec" else "cryptography %s" % cryptography.__version__,
                                      backend.openssl_version_text()),
    }))


if __name__ == "__main__":
    try:
        main()
    except (OSError, ValueError, xmlsec.Error) as e:
        print("sign_dte.py: %s" % e, file=sys.stderr)
        sys.exit(1)
