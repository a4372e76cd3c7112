package siisim

// The simulator's copy of the SII's codes and texts (docs/sii-protocol.md §1–3).
// It is deliberately separate from the client's classification in
// shared/sii: the simulator says what the SII says, the client decides
// what it means, and the tests check that the two agree.

// DTEUpload STATUS values.
const (
	statusOK           = 0
	statusNoPermission = 1 // sender has no permission to send for the company
	statusFileSize     = 2 // file too big or too small
	statusNotAuth      = 5 // not authenticated
	statusCompany      = 6 // company not authorised to send
	statusSchema       = 7 // schema error, DETAIL lists the errors
	statusSignature    = 8 // signature error in the file
	// statusInternal is the simulator's own failure (xmllint could not
	// run): answered as HTTP 500, recorded with this value.
	statusInternal = -2
)

// Envelope states (getEstUp ESTADO).
const (
	stateREC = "REC"
	stateSOK = "SOK"
	stateCRT = "CRT"
	stateFOK = "FOK"
	statePRD = "PRD"
	stateEPR = "EPR"
	stateRSC = "RSC"
	stateRFR = "RFR"
	stateRCT = "RCT"
	stateRPT = "RPT"
)

// Per-document verdicts of a processed upload.
const (
	DocAccepted = "ACE" // accepted
	DocObjected = "RPR" // accepted with objections (reparos)
	DocRejected = "RCH" // rejected
	DocRepeated = "RPT" // rejected: the SII already accepted this document
)

// CodeRefNotAccepted is the SII's detail code for a note whose referenced
// document it has not accepted yet (docs/sii-protocol.md §12).
const CodeRefNotAccepted = "REF-3-750"

// stateGlosa is the GLOSA the SII gives with each envelope state.
func stateGlosa(s string) string {
	switch s {
	case stateREC:
		return "Envio Recibido"
	case stateSOK:
		return "Schema Validado"
	case stateCRT:
		return "Caratula OK"
	case stateFOK:
		return "Firma de Envio Validada"
	case statePRD:
		return "Envio en Proceso"
	case stateEPR:
		return "Envio Procesado"
	case stateRSC:
		return "Rechazado por Error en Schema"
	case stateRFR:
		return "Rechazado por Error en Firma"
	case stateRCT:
		return "Rechazado por Error en Caratula"
	case stateRPT:
		return "DTE Repetido"
	}
	return ""
}

// pathTo lists the states an upload passes through before its final one.
func pathTo(final string) []string {
	switch final {
	case stateRSC:
		return []string{stateREC}
	case stateRCT:
		return []string{stateREC, stateSOK}
	case stateRFR:
		return []string{stateREC, stateSOK, stateCRT}
	default: // EPR, RPT
		return []string{stateREC, stateSOK, stateCRT, stateFOK, statePRD}
	}
}

// getToken ESTADO values.
const (
	tokOK            = "00"
	tokBadXML        = "02"
	tokNoSignature   = "04"
	tokBadSignature  = "05"
	tokNoSeed        = "06"
	tokRetorno       = "08" // seed expired, unknown or used
	tokNoCertificate = "11"
	tokKeyMismatch   = "21"
	tokAuth          = "-3"
	tokRUT           = "-07"
)

func tokenGlosa(code string) string {
	switch code {
	case tokOK:
		return "Token Creado"
	case tokBadXML:
		return "Error : (Retorno XML) Error en el XML"
	case tokNoSignature:
		return "Error : (Firma) No existe elemento Signature"
	case tokBadSignature:
		return "Error : (Firma) Firma no valida"
	case tokNoSeed:
		return "Error : (Semilla) No existe elemento Semilla"
	case tokRetorno:
		return "Error : ERROR RETORNO (Semilla invalida o expirada)"
	case tokNoCertificate:
		return "Error : (Certificado) No existe elemento Certificate"
	case tokKeyMismatch:
		return "Error : La llave publica no corresponde al certificado"
	case tokAuth:
		return "Error : Error de autenticacion"
	case tokRUT:
		return "Error : Error de validacion de RUT"
	}
	return ""
}

// Token errors of the query services.
const (
	estNoCookie   = "001" // no token given
	estTokenDead  = "002" // token expired
	estTokenNoExi = "003" // token unknown
)

// getEstDte ESTADO values and their ERR_CODE.
func docStateCodes(estado string) (errCode, glosa string) {
	switch estado {
	case "DOK":
		return "0", "Documento Recibido por el SII. Datos Coinciden con los Registrados"
	case "DNK":
		return "1", "Documento Recibido por el SII pero Datos NO Coinciden con los registrados"
	case "FAU":
		return "3", "Documento No Recibido por el SII"
	case "TMD":
		return "10", "Existe Nota de Debito que Modifica Texto Documento"
	case "TMC":
		return "11", "Existe Nota de Credito que Modifica Textos Documento"
	case "MMD":
		return "12", "Existe Nota de Debito que Modifica Montos Documento"
	case "MMC":
		return "13", "Existe Nota de Credito que Modifica Montos Documento"
	case "AND":
		return "14", "Existe Nota de Debito que Anula Documento"
	case "ANC":
		return "15", "Existe Nota de Credito que Anula Documento"
	}
	return "", ""
}

// electronicTypes are DTE types whose references the SII resolves against
// the documents it received.
func isElectronic(t int) bool {
	switch t {
	case 33, 34, 43, 46, 52, 56, 61, 110, 111, 112:
		return true
	}
	return false
}

// isNote reports whether a type modifies another document.
func isNote(t int) bool {
	switch t {
	case 56, 61, 111, 112:
		return true
	}
	return false
}
