package sii

// This file is the one place where the SII's codes are classified: which
// answer is success, which is worth retrying, which needs a new token and
// which will never succeed (docs/sii-protocol.md §1.2, §1.3, §2, §3). Unknown codes
// are transient: retrying a few times and then dead-lettering is cheap,
// giving up on a document the SII may have accepted is not.

// kind is what a code means for the caller.
type kind int

const (
	kindOK        kind = iota // success
	kindTransient             // try again later
	kindPermanent             // will not succeed without a change
	kindToken                 // the token was refused: re-authenticate
)

// seedKind classifies getSeed's ESTADO.
func seedKind(estado string) kind {
	switch estado {
	case "00":
		return kindOK
	default: // -1 no seed, -2 ERROR RETORNO, anything else: the SII's side
		return kindTransient
	}
}

// tokenKind classifies getToken's ESTADO (SII manual v1.9).
func tokenKind(estado string) kind {
	switch estado {
	case "00":
		return kindOK
	case "02", "03", // the signed seed is not well-formed XML
		"04", "05", "06", // no Signature, bad signature, no Semilla
		"11", "21", // no certificate, key does not match certificate
		"-3", "-07", "-7": // authentication error, RUT not registered
		return kindPermanent
	default: // 01 IO, 07/09/12 internal, 08 seed expired or unknown, 10 return error
		return kindTransient
	}
}

// tokenText is the meaning of a getToken ESTADO, for answers without GLOSA.
func tokenText(estado string) string {
	switch estado {
	case "01", "02", "03":
		return "invalid XML in the signed seed"
	case "04":
		return "no Signature element"
	case "05":
		return "invalid signature"
	case "06":
		return "no Semilla element"
	case "07", "09", "12":
		return "internal error"
	case "08":
		return "ERROR RETORNO (seed expired or unknown, or token not created)"
	case "10":
		return "error returning data"
	case "11":
		return "no Certificate element"
	case "21":
		return "signature key does not match the certificate"
	case "-3":
		return "authentication error"
	case "-07", "-7":
		return "RUT validation error: user not registered for certificate authentication"
	}
	return ""
}

// uploadKind classifies DTEUpload's STATUS.
func uploadKind(status string) kind {
	switch status {
	case "0":
		return kindOK
	case "1", "2", "6", "7", "8", "99":
		return kindPermanent
	case "5":
		return kindToken
	default: // 3 truncated, 9 system locked, others internal
		return kindTransient
	}
}

// uploadText is the meaning of a DTEUpload STATUS.
func uploadText(status string) string {
	switch status {
	case "0":
		return "upload OK"
	case "1":
		return "sender has no permission to send for this company"
	case "2":
		return "file size error"
	case "3":
		return "file truncated"
	case "5":
		return "not authenticated (token invalid or expired)"
	case "6":
		return "company not authorized to send"
	case "7":
		return "schema error"
	case "8":
		return "signature error in the file"
	case "9":
		return "system locked"
	case "99":
		return "file already received"
	}
	return "internal error"
}

// estUpResult maps a getEstUp ESTADO that is a state of the upload to a
// result; ok is false for codes that are not states (errors).
func estUpResult(estado string) (r Result, ok bool) {
	switch estado {
	case "REC", "SOK", "CRT", "FOK", "PRD", "PDR":
		return Pending, true
	case "EPR": // final; the counts decide (see UploadStatus)
		return Accepted, true
	case "RPR", "RLV":
		return Objected, true
	case "RSC", "RFR", "RCT", "RCH", "RPT", "VOF":
		return Rejected, true
	}
	return "", false
}

// estUpErrorKind classifies a getEstUp ESTADO that is not a state.
func estUpErrorKind(estado string) kind {
	switch estado {
	case "001", "002", "003":
		return kindToken
	case "-11", "-4", "-5", "-7", "-8", "-9", "-12":
		return kindTransient
	case "-1", "-2", "-3", "-6", "-10", "-13", "-14":
		return kindPermanent
	}
	return kindTransient
}

// estUpText is the meaning of a getEstUp ESTADO, for answers without GLOSA.
func estUpText(estado string) string {
	switch estado {
	case "REC":
		return "Envio Recibido"
	case "SOK":
		return "Schema Validado"
	case "CRT":
		return "Caratula OK"
	case "FOK":
		return "Firma de Envio Validada"
	case "PRD", "PDR":
		return "Envio en Proceso"
	case "EPR":
		return "Envio Procesado"
	case "RPR":
		return "Aceptado con Reparos"
	case "RLV":
		return "Aceptado con Reparos Leves"
	case "RSC":
		return "Rechazado por Error en Schema"
	case "RFR":
		return "Rechazado por Error en Firma"
	case "RCT":
		return "Rechazado por Error en Caratula"
	case "RCH":
		return "DTE Rechazado"
	case "RPT":
		return "DTE Repetido"
	case "VOF":
		return "Rechazado"
	case "001":
		return "Cookie Inactivo (o token no existe)"
	case "002":
		return "Token Inactivo"
	case "003":
		return "Token No Existe"
	case "-11":
		return "error: see ERR_CODE"
	case "-3":
		return "RUT usuario no existe"
	case "-6":
		return "usuario no autorizado"
	case "-13":
		return "RUT usuario nulo"
	}
	return ""
}

// estDteResult maps a getEstDte ESTADO that is a document state to a
// result and whether the SII has the document; ok is false for errors.
// The answer is meaningful once the upload was processed (EPR): a document
// the SII rejected is then simply not received (FAU).
func estDteResult(estado string) (r Result, received, ok bool) {
	switch estado {
	case "DOK":
		return Accepted, true, true
	case "TMD", "TMC", "MMD", "MMC", "AND", "ANC": // accepted, then modified by a note
		return Accepted, true, true
	case "DNK": // received, but not with the data asked about
		return Rejected, true, true
	case "FAU", "FNA", "FAN", "EMP":
		return Rejected, false, true
	}
	return "", false, false
}

// estDteErrorKind classifies a getEstDte ESTADO that is not a state.
func estDteErrorKind(estado string) kind {
	switch estado {
	case "001", "002", "003":
		return kindToken
	}
	return kindTransient // -1..-4 "error retorno", -11, unknown
}

// estDteText is the meaning of a getEstDte ESTADO.
func estDteText(estado string) string {
	switch estado {
	case "DOK":
		return "Documento Recibido por el SII. Datos Coinciden con los Registrados"
	case "DNK":
		return "Documento Recibido por el SII pero Datos NO Coinciden con los registrados"
	case "FAU":
		return "Documento No Recibido por el SII"
	case "FNA":
		return "Documento No Autorizado"
	case "FAN":
		return "Documento Anulado"
	case "EMP":
		return "Empresa no autorizada a Emitir Documentos Tributarios Electronicos"
	case "TMD":
		return "Existe Nota de Debito que Modifica Texto Documento"
	case "TMC":
		return "Existe Nota de Credito que Modifica Textos Documento"
	case "MMD":
		return "Existe Nota de Debito que Modifica Montos Documento"
	case "MMC":
		return "Existe Nota de Credito que Modifica Montos Documento"
	case "AND":
		return "Existe Nota de Debito que Anula Documento"
	case "ANC":
		return "Existe Nota de Credito que Anula Documento"
	}
	return estUpText(estado)
}

// httpKind classifies an HTTP status that came without a readable answer.
func httpKind(status int) kind {
	switch {
	case status >= 500, status == 408, status == 425, status == 429:
		return kindTransient
	case status >= 400:
		return kindPermanent // wrong URL or method: configuration
	}
	return kindTransient
}
