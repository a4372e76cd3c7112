package dte

import "github.com/dtecl/pipeline/shared/xmlsig"

// Codes say why a check failed: one code per kind of failure, the same in
// the text report and in JSON. They are stable: the SII simulator maps
// them to the SII's answers, scripts branch on them. Signature checks also
// use the xmlsig codes (CodeDigest and the others re-exported below).
const (
	// Reading the document (Report.Read).
	CodeNotXML          = "not-xml"           // unreadable document
	CodeNotDTE          = "not-dte"           // readable, but not a DTE, EnvioDTE or EnvioBOLETA
	CodeEncoding        = "encoding"          // an encoding other than UTF-8 or ISO-8859-1, or bytes that contradict it
	CodeTooLarge        = "too-large"         // over the size limit
	CodeTooDeep         = "too-deep"          // elements nested deeper than the limit
	CodeTooManyElements = "too-many-elements" // more elements than the limit
	CodeDTD             = "dtd-not-allowed"   // a DOCTYPE or ENTITY declaration

	// The SII's schema (Report.Schema).
	CodeSchemaInvalid     = "schema-invalid"     // the document does not validate against the SII's XSD
	CodeSchemaUnavailable = "schema-unavailable" // no schema validator: the document could not be validated

	// The structure the signatures rely on (Report.Structure).
	CodeDuplicateID   = "duplicate-id"      // two elements carry the same ID
	CodeExtraCopy     = "extra-copy"        // a second Documento, DTE, SetDTE, Caratula or Signature somewhere in the file
	CodeMisplaced     = "misplaced-element" // an element where the SII's structure has none, or in another namespace
	CodeWrongElement  = "id-on-wrong-element"
	CodeWrongRef      = "wrong-reference" // the signature signs another element than the one read (signature wrapping)
	CodeNoSignature   = "no-signature"    // the Signature is missing
	CodeNoCertificate = "no-certificate"  // no readable certificate in KeyInfo
	CodeSigningTime   = "signing-time"    // TmstFirma / TmstFirmaEnv missing or not a timestamp
	CodeCertExpired   = "certificate-expired"
	CodeCertNotYet    = "certificate-not-yet-valid"

	// The Carátula of an envelope (EnvelopeReport.Cover).
	CodeCaratulaCount   = "caratula-count"   // SubTotDTE does not match the DTEs
	CodeCaratulaIssuer  = "caratula-issuer"  // RutEmisor is not every DTE's issuer
	CodeCaratulaSender  = "caratula-sender"  // RutEnvia is not the signer's RUT
	CodeCaratulaMissing = "caratula-missing" // no Carátula or missing fields

	// The TED (DocumentReport.TED).
	CodeTEDMissing   = "ted-missing"   // no TED
	CodeTEDMalformed = "ted-malformed" // TED without DD or FRMT, FRMT not base64
	CodeTEDSignature = "ted-signature" // FRMT does not verify with the CAF key
	CodeTEDMismatch  = "ted-mismatch"  // DD says something else than the document

	// The CAF inside the TED (DocumentReport.CAF).
	CodeCAFMissing    = "caf-missing"     // DD has no CAF
	CodeCAFMalformed  = "caf-malformed"   // the CAF cannot be read
	CodeCAFSignature  = "caf-signature"   // FRMA does not verify with the SII key for its IDK
	CodeCAFNoKeys     = "caf-no-keys"     // no SII keys were given: FRMA could not be checked
	CodeCAFUnknownIDK = "caf-unknown-idk" // no SII key for the CAF's IDK: FRMA could not be checked
	CodeCAFMismatch   = "caf-mismatch"    // the CAF is for another issuer or type
	CodeCAFFolio      = "caf-folio"       // the folio is outside the CAF's range
	CodeCAFExpired    = "caf-expired"     // the CAF had expired on the issue date

	// Dates (DocumentReport.Dates; the envelope's in Cover).
	CodeDateMalformed    = "date-malformed"      // FchEmis is not a date
	CodeIssuedInFuture   = "issue-date-future"   // FchEmis after today (Chile) plus the allowed skew
	CodeSignedInFuture   = "signed-in-future"    // TmstFirma / TmstFirmaEnv after now plus the allowed skew
	CodeSignedBeforeIssu = "signed-before-issue" // TmstFirma earlier than FchEmis
	CodeIssuedBeforeCAF  = "issued-before-caf"   // FchEmis earlier than the CAF's authorisation (FA)
	CodeSignedBeforeCAF  = "signed-before-caf"   // TmstFirma earlier than the CAF's authorisation (FA)

	// A check that was not made because one it depends on failed.
	CodeNotChecked = "not-checked"
)

// The xmlsig codes a signature check may carry.
const (
	CodeSignatureMalformed = string(xmlsig.CodeMalformed)
	CodeUnsupported        = string(xmlsig.CodeUnsupported)
	CodeReferenceNotFound  = string(xmlsig.CodeReference)
	CodeDigest             = string(xmlsig.CodeDigest)
	CodeSignatureInvalid   = string(xmlsig.CodeSignature)
	CodeKeyMismatch        = string(xmlsig.CodeKeyMismatch)
)

// Downgrades: named checks a caller may allow to pass unverified, for
// certification work. A report made with one lists it (Report.Downgrades)
// and says so first.
const (
	// DowngradeUnknownCAFKey lets a CAF whose IDK has no SII key pass
	// (status "allowed"): `dte verify --allow-unknown-caf-key`.
	DowngradeUnknownCAFKey = "allow-unknown-caf-key"
)
