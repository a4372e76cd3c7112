package printout

import (
	"strings"
	"unicode"
)

// siiOffices maps each SII office (the Dirección Regional or unit whose
// name goes under the header box, "S.I.I. - SANTIAGO ORIENTE") to the
// comunas it serves. Compiled from the SII's territorial organisation as
// implementations that print DTEs use it (docs/sii-printing.md §4); where a source
// misspelt a comuna the official name is used. Comunas not listed here
// (Navidad, San Rafael, Coihueco, Quinchao, Antártica) have no office we
// could confirm: Render asks for Options.Office for them rather than
// guess.
var siiOffices = map[string][]string{
	"ARICA":                   {"Arica", "Camarones", "Putre", "General Lagos"},
	"IQUIQUE":                 {"Iquique", "Alto Hospicio", "Pozo Almonte", "Camiña", "Colchane", "Huara", "Pica"},
	"ANTOFAGASTA":             {"Antofagasta", "Mejillones", "Sierra Gorda"},
	"CALAMA":                  {"Calama", "San Pedro de Atacama", "Ollagüe"},
	"TOCOPILLA":               {"Tocopilla", "María Elena"},
	"TALTAL":                  {"Taltal"},
	"COPIAPÓ":                 {"Copiapó", "Caldera", "Tierra Amarilla"},
	"CHAÑARAL":                {"Chañaral", "Diego de Almagro"},
	"VALLENAR":                {"Vallenar", "Freirina", "Huasco", "Alto del Carmen"},
	"LA SERENA":               {"La Serena", "La Higuera", "Paihuano", "Paiguano", "Andacollo", "Vicuña"},
	"COQUIMBO":                {"Coquimbo"},
	"OVALLE":                  {"Ovalle", "Monte Patria", "Punitaqui", "Combarbalá", "Río Hurtado"},
	"ILLAPEL":                 {"Illapel", "Salamanca", "Los Vilos", "Canela"},
	"VALPARAÍSO":              {"Valparaíso", "Casablanca", "Juan Fernández", "Isla de Pascua"},
	"VIÑA DEL MAR":            {"Viña del Mar", "Concón", "Quintero", "Puchuncaví"},
	"LA LIGUA":                {"La Ligua", "Petorca", "Cabildo", "Zapallar", "Papudo"},
	"SAN ANTONIO":             {"San Antonio", "Santo Domingo", "Cartagena", "El Tabo", "El Quisco", "Algarrobo"},
	"QUILLOTA":                {"Quillota", "Nogales", "Hijuelas", "La Calera", "Calera", "La Cruz", "Limache", "Olmué"},
	"SAN FELIPE":              {"San Felipe", "Panquehue", "Catemu", "Putaendo", "Santa María", "Llaillay", "Llay Llay"},
	"LOS ANDES":               {"Los Andes", "Calle Larga", "San Esteban", "Rinconada"},
	"VILLA ALEMANA":           {"Villa Alemana", "Quilpué"},
	"RANCAGUA":                {"Rancagua", "Machalí", "Graneros", "Mostazal", "San Francisco de Mostazal", "Doñihue", "Codegua", "Rengo", "Coltauco", "Requínoa", "Olivar", "Malloa", "Coinco", "Quinta de Tilcoco"},
	"SAN FERNANDO":            {"San Fernando", "Chimbarongo", "Nancagua", "Placilla"},
	"SANTA CRUZ":              {"Santa Cruz", "Lolol", "Palmilla", "Peralillo", "Chépica", "Pumanque"},
	"SAN VICENTE TAGUA TAGUA": {"San Vicente", "San Vicente de Tagua Tagua", "Las Cabras", "Peumo", "Pichidegua"},
	"PICHILEMU":               {"Pichilemu", "Paredones", "Marchigüe", "Marchihue", "Litueche", "La Estrella"},
	"TALCA":                   {"Talca", "San Clemente", "Pelarco", "Río Claro", "Pencahue", "Maule", "Curepto", "San Javier"},
	"LINARES":                 {"Linares", "Yerbas Buenas", "Colbún", "Longaví", "Villa Alegre"},
	"CONSTITUCIÓN":            {"Constitución", "Empedrado"},
	"CAUQUENES":               {"Cauquenes", "Pelluhue", "Chanco"},
	"PARRAL":                  {"Parral", "Retiro"},
	"CURICÓ":                  {"Curicó", "Teno", "Romeral", "Molina", "Hualañé", "Sagrada Familia", "Licantén", "Vichuquén", "Rauco"},
	"CONCEPCIÓN":              {"Concepción", "Chiguayante", "San Pedro de la Paz", "Penco", "Hualqui", "Florida", "Tomé", "Coronel", "Lota", "Santa Juana", "Arauco"},
	"CHILLÁN":                 {"Chillán", "Chillán Viejo", "Pinto", "El Carmen", "San Ignacio", "Pemuco", "Yungay", "Bulnes", "Quillón", "Ránquil", "Portezuelo", "Coelemu", "Treguaco", "Trehuaco", "Quirihue", "Cobquecura", "Ninhue"},
	"LOS ÁNGELES":             {"Los Ángeles", "Santa Bárbara", "Laja", "Quilleco", "Nacimiento", "Negrete", "Mulchén", "Quilaco", "Yumbel", "Cabrero", "San Rosendo", "Tucapel", "Antuco", "Alto Biobío", "Alto Bío-Bío"},
	"SAN CARLOS":              {"San Carlos", "Ñiquén", "San Gregorio de Ñiquén", "San Nicolás", "San Fabián", "San Fabián de Alico"},
	"TALCAHUANO":              {"Talcahuano", "Hualpén"},
	"LEBU":                    {"Lebu", "Curanilahue", "Los Álamos", "Cañete", "Contulmo", "Tirúa"},
	"TEMUCO":                  {"Temuco", "Vilcún", "Freire", "Cunco", "Lautaro", "Perquenco", "Galvarino", "Nueva Imperial", "Carahue", "Saavedra", "Puerto Saavedra", "Pitrufquén", "Gorbea", "Toltén", "Loncoche", "Melipeuco", "Teodoro Schmidt", "Padre Las Casas", "Cholchol"},
	"ANGOL":                   {"Angol", "Purén", "Los Sauces", "Renaico", "Collipulli", "Ercilla"},
	"VICTORIA":                {"Victoria", "Traiguén", "Lumaco", "Curacautín", "Lonquimay"},
	"VILLARRICA":              {"Villarrica", "Pucón", "Curarrehue"},
	"VALDIVIA":                {"Valdivia", "Mariquina", "Máfil", "Corral", "Los Lagos", "Paillaco", "Futrono"},
	"LANCO":                   {"Lanco"},
	"PANGUIPULLI":             {"Panguipulli"},
	"LA UNIÓN":                {"La Unión", "Río Bueno", "Lago Ranco"},
	"PUERTO MONTT":            {"Puerto Montt", "Calbuco", "Maullín", "Los Muermos", "Hualaihué"},
	"PUERTO VARAS":            {"Puerto Varas", "Cochamó", "Fresia", "Llanquihue", "Frutillar"},
	"ANCUD":                   {"Ancud", "Quemchi"},
	"OSORNO":                  {"Osorno", "Puyehue", "Purranque", "Río Negro", "San Pablo", "San Juan de la Costa", "Puerto Octay"},
	"CASTRO":                  {"Castro", "Curaco de Vélez", "Chonchi", "Dalcahue", "Puqueldón", "Queilén", "Quellón"},
	"CHAITÉN":                 {"Chaitén", "Palena", "Futaleufú"},
	"COYHAIQUE":               {"Coyhaique", "Río Ibáñez"},
	"AYSÉN":                   {"Aysén", "Cisnes", "Lago Verde", "Guaitecas"},
	"CHILE CHICO":             {"Chile Chico"},
	"COCHRANE":                {"Cochrane", "O'Higgins", "Tortel"},
	"PUNTA ARENAS":            {"Punta Arenas", "Río Verde", "San Gregorio", "Laguna Blanca", "Cabo de Hornos"},
	"PUERTO NATALES":          {"Natales", "Puerto Natales", "Torres del Paine"},
	"PORVENIR":                {"Porvenir", "Primavera", "Timaukel"},
	"SANTIAGO NORTE":          {"Independencia", "Recoleta", "Huechuraba", "Conchalí", "Quilicura", "Colina", "Lampa", "Tiltil", "Til Til"},
	"SANTIAGO CENTRO":         {"Santiago", "Santiago Centro"},
	"SANTIAGO PONIENTE":       {"Cerro Navia", "Curacaví", "Estación Central", "Lo Prado", "Pudahuel", "Quinta Normal", "Renca"},
	"MELIPILLA":               {"Melipilla", "San Pedro", "Alhué", "María Pinto"},
	"MAIPÚ":                   {"Maipú", "Cerrillos", "Padre Hurtado", "Peñaflor", "Talagante", "El Monte", "Isla de Maipo"},
	"SANTIAGO ORIENTE":        {"Las Condes", "Vitacura", "Lo Barnechea"},
	"ÑUÑOA":                   {"Ñuñoa", "La Reina", "Macul", "Peñalolén"},
	"PROVIDENCIA":             {"Providencia"},
	"SANTIAGO SUR":            {"San Miguel", "La Cisterna", "San Joaquín", "Pedro Aguirre Cerda", "Lo Espejo", "La Granja", "La Pintana", "San Ramón"},
	"LA FLORIDA":              {"La Florida", "Puente Alto", "Pirque", "San José de Maipo"},
	"SAN BERNARDO":            {"San Bernardo", "Calera de Tango", "El Bosque"},
	"BUIN":                    {"Buin", "Paine"},
}

// officeByCommune is siiOffices inverted, keyed by normalized comuna.
var officeByCommune = func() map[string]string {
	m := make(map[string]string, 400)
	for office, communes := range siiOffices {
		for _, c := range communes {
			m[normalizeCommune(c)] = office
		}
	}
	return m
}()

// Office returns the SII office for the issuer's comuna (CmnaOrigen),
// written the way the DTE spells it: case, accents, apostrophes and
// spacing do not matter ("ÑUÑOA", "Nunoa", "nuñoa"). ok is false for a
// comuna not in the table.
func Office(commune string) (office string, ok bool) {
	office, ok = officeByCommune[normalizeCommune(commune)]
	return office, ok
}

// normalizeCommune upper-cases, drops accents and tildes and turns
// punctuation into single spaces.
func normalizeCommune(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		switch r {
		case 'á', 'à', 'â', 'ä', 'Á', 'À', 'Â', 'Ä':
			r = 'A'
		case 'é', 'è', 'ê', 'ë', 'É', 'È', 'Ê', 'Ë':
			r = 'E'
		case 'í', 'ì', 'î', 'ï', 'Í', 'Ì', 'Î', 'Ï':
			r = 'I'
		case 'ó', 'ò', 'ô', 'ö', 'Ó', 'Ò', 'Ô', 'Ö':
			r = 'O'
		case 'ú', 'ù', 'û', 'ü', 'Ú', 'Ù', 'Û', 'Ü':
			r = 'U'
		case 'ñ', 'Ñ':
			r = 'N'
		}
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(unicode.ToUpper(r))
	}
	return b.String()
}
