package printout

// Printable document types: the ones this pipeline issues.
var documentNames = map[int]string{
	33: "FACTURA ELECTRÓNICA",
	34: "FACTURA NO AFECTA O EXENTA ELECTRÓNICA",
	52: "GUÍA DE DESPACHO ELECTRÓNICA",
	56: "NOTA DE DÉBITO ELECTRÓNICA",
	61: "NOTA DE CRÉDITO ELECTRÓNICA",
}

// referenceTypes names the document types a Referencia points to
// (TpoDocRef): the SII's tax documents and the codes for other documents.
var referenceTypes = map[string]string{
	"30": "Factura", "32": "Factura no afecta o exenta", "33": "Factura electrónica",
	"34": "Factura no afecta o exenta electrónica", "35": "Boleta", "38": "Boleta exenta",
	"39": "Boleta electrónica", "40": "Liquidación factura", "41": "Boleta exenta electrónica",
	"43": "Liquidación factura electrónica", "45": "Factura de compra", "46": "Factura de compra electrónica",
	"50": "Guía de despacho", "52": "Guía de despacho electrónica", "55": "Nota de débito",
	"56": "Nota de débito electrónica", "60": "Nota de crédito", "61": "Nota de crédito electrónica",
	"103": "Liquidación", "110": "Factura de exportación electrónica",
	"111": "Nota de débito de exportación electrónica", "112": "Nota de crédito de exportación electrónica",
	"801": "Orden de compra", "802": "Nota de pedido", "803": "Contrato", "804": "Resolución",
	"805": "Proceso ChileCompra", "806": "Ficha ChileCompra", "807": "DUS", "808": "B/L (conocimiento de embarque)",
	"809": "AWB", "810": "MIC/DTA", "811": "Carta de porte", "812": "Resolución del SNA",
	"813": "Pasaporte", "814": "Certificado de depósito Bolsa Prod. Chile", "815": "Vale de prenda Bolsa Prod. Chile",
	"HES": "Hoja de entrada de servicio", "HEM": "Hoja de entrada de materiales", "SET": "Set de pruebas",
}

func referenceType(code string) string {
	if n, ok := referenceTypes[code]; ok {
		return n
	}
	return "Documento " + code
}

// referenceCodes are CodRef: what a note does to the document it refers to.
var referenceCodes = map[string]string{
	"1": "Anula documento de referencia",
	"2": "Corrige texto del documento de referencia",
	"3": "Corrige montos",
}

// paymentForms are FmaPago.
var paymentForms = map[string]string{"1": "Contado", "2": "Crédito", "3": "Sin costo (entrega gratuita)"}

// transferTypes are IndTraslado of a guía de despacho.
var transferTypes = map[string]string{
	"1": "Operación constituye venta", "2": "Ventas por efectuar", "3": "Consignaciones",
	"4": "Entrega gratuita", "5": "Traslado interno", "6": "Otros traslados no venta",
	"7": "Guía de devolución", "8": "Traslado para exportación (no venta)", "9": "Venta para exportación",
}

// dispatchTypes are TipoDespacho of a guía de despacho.
var dispatchTypes = map[string]string{
	"1": "Por cuenta del receptor",
	"2": "Por cuenta del emisor a instalaciones del cliente",
	"3": "Por cuenta del emisor a otras instalaciones",
}

// taxNames are the additional taxes and retentions (TipoImp) most seen
// on facturas.
var taxNames = map[string]string{
	"14": "IVA margen de comercialización", "15": "IVA retenido total", "17": "IVA anticipado faenamiento",
	"19": "IVA anticipado harina", "23": "Impuesto adicional art. 37 a, b, c", "24": "Licores, pisco, destilados",
	"25": "Vinos", "26": "Cervezas y bebidas alcohólicas", "27": "Bebidas analcohólicas y minerales",
	"271": "Bebidas analcohólicas con alto contenido de azúcar", "28": "Impuesto específico diésel",
	"35": "Impuesto específico gasolinas",
}

func taxName(code string) string {
	if n, ok := taxNames[code]; ok {
		return n
	}
	return "Impuesto código " + code
}

// HasCedible reports whether a document type has a cedible copy with the
// acuse de recibo (Manual de muestras impresas §1.4, docs/sii-printing.md §4): the
// facturas 33 and 34 and the guía 52 (only when it is a sale; see Render),
// never the notes 56 and 61.
func HasCedible(docType int) bool {
	switch docType {
	case 33, 34, 52:
		return true
	}
	return false
}

// saleTransfers are the IndTraslado values of a guía that goes with a
// sale, so that it has a cedible copy "CEDIBLE CON SU FACTURA"; a guía
// that moves goods without selling them (consignment, internal transfer,
// return...) has none.
var saleTransfers = map[string]bool{"1": true, "2": true, "9": true}
