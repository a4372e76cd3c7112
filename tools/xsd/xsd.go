//go:build cgo

package xsd

/*
#cgo pkg-config: libxml-2.0
#include <stdlib.h>
#include <string.h>
#include <libxml/parser.h>
#include <libxml/xmlschemas.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlreader.h>

// errs collects at most max messages of one parse or validation.
typedef struct {
	char **msgs;
	int n, max, dropped;
} errs;

static void errsAdd(errs *e, int line, const char *msg) {
	if (e->n >= e->max) { e->dropped++; return; }
	size_t len = msg ? strlen(msg) : 0;
	while (len > 0 && (msg[len-1] == '\n' || msg[len-1] == ' ')) len--;
	char *s = malloc(len + 32);
	if (s == NULL) { e->dropped++; return; }
	if (line > 0) snprintf(s, len + 32, "line %d: %.*s", line, (int)len, msg ? msg : "");
	else snprintf(s, len + 32, "%.*s", (int)len, msg ? msg : "");
	e->msgs[e->n++] = s;
}

static void errsFree(errs *e) {
	for (int i = 0; i < e->n; i++) free(e->msgs[i]);
	free(e->msgs);
}

static void onError(void *ctx, xmlErrorPtr err) {
	if (err == NULL || err->level < XML_ERR_ERROR) return;
	errsAdd((errs *)ctx, err->line, err->message);
}

static char *errsMsg(errs *e, int i) { return e->msgs[i]; }

static errs *errsNew(int max) {
	errs *e = calloc(1, sizeof(errs));
	if (e == NULL) return NULL;
	e->msgs = calloc(max, sizeof(char *));
	if (e->msgs == NULL) { free(e); return NULL; }
	e->max = max;
	return e;
}

static xmlSchemaPtr compile(const char *path, errs *e) {
	xmlSchemaParserCtxtPtr pc = xmlSchemaNewParserCtxt(path);
	if (pc == NULL) { errsAdd(e, 0, "cannot create a schema parser"); return NULL; }
	xmlSchemaSetParserStructuredErrors(pc, onError, e);
	xmlSchemaPtr s = xmlSchemaParse(pc);
	xmlSchemaFreeParserCtxt(pc);
	return s;
}

// Parser options: no network, no messages on stderr; no DTD loading, no
// entity substitution and no XML_PARSE_HUGE (libxml2's own limits stay).
static const int parseOptions = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;

static void onReaderError(void *ctx, xmlErrorPtr err) { onError(ctx, err); }

// validateStream streams the document through the schema (xmlTextReader:
// no tree is built, memory stays flat whatever the size) and stops at the
// last error it keeps. libxml2 does not check that xs:ID values are unique
// when it streams (the verifier's structure check does, for any ID). It returns 0 when valid, 1 when not well-formed,
// not valid or not rooted at {rootNS}rootName (messages in e), -1 when
// validation could not run.
static int validateStream(xmlSchemaPtr s, const char *buf, int len, const char *rootNS, const char *rootName, errs *e) {
	xmlTextReaderPtr r = xmlReaderForMemory(buf, len, "document.xml", NULL, parseOptions);
	if (r == NULL) { errsAdd(e, 0, "cannot create an XML reader"); return -1; }
	xmlTextReaderSetStructuredErrorHandler(r, onReaderError, e);
	xmlSchemaValidCtxtPtr vc = xmlSchemaNewValidCtxt(s);
	if (vc == NULL) { xmlFreeTextReader(r); errsAdd(e, 0, "cannot create a validation context"); return -1; }
	xmlSchemaSetValidStructuredErrors(vc, onError, e);
	if (xmlTextReaderSchemaValidateCtxt(r, vc, 0) != 0) {
		xmlSchemaFreeValidCtxt(vc);
		xmlFreeTextReader(r);
		errsAdd(e, 0, "cannot start schema validation");
		return -1;
	}
	int rc, rooted = 0, bad = 0;
	while ((rc = xmlTextReaderRead(r)) == 1) {
		int type = xmlTextReaderNodeType(r);
		if (type == XML_READER_TYPE_DOCUMENT_TYPE) {
			errsAdd(e, 0, "a DTD (<!DOCTYPE ...>) is not allowed");
			bad = 1;
			break;
		}
		if (type == XML_READER_TYPE_ELEMENT && !rooted) {
			rooted = 1;
			const xmlChar *name = xmlTextReaderConstLocalName(r), *ns = xmlTextReaderConstNamespaceUri(r);
			if (rootName != NULL && (name == NULL || ns == NULL ||
					xmlStrcmp(name, (const xmlChar *)rootName) != 0 || xmlStrcmp(ns, (const xmlChar *)rootNS) != 0)) {
				char msg[512];
				snprintf(msg, sizeof msg, "the root element is not {%s}%s", rootNS, rootName);
				errsAdd(e, xmlTextReaderGetParserLineNumber(r), msg);
				bad = 1;
				break;
			}
		}
		if (e->n >= e->max) break; // enough said: a hostile document stops here
	}
	int valid = rc == 0 && !bad && e->n == 0 && xmlTextReaderIsValid(r) == 1;
	xmlFreeTextReader(r);
	xmlSchemaFreeValidCtxt(vc);
	if (valid) return 0;
	if (e->n == 0) errsAdd(e, 0, rc < 0 ? "not well-formed XML" : "not valid");
	return 1;
}
// validateTree parses the document into a tree and validates it, as
// xmllint does (xs:ID values unique across the document included). It
// returns 0 when valid, 1 when not well-formed or invalid (messages in e),
// -1 when validation could not run.
static int validateTree(xmlSchemaPtr s, const char *buf, int len, const char *rootNS, const char *rootName, errs *e) {
	xmlParserCtxtPtr pc = xmlNewParserCtxt();
	if (pc == NULL) { errsAdd(e, 0, "cannot create an XML parser"); return -1; }
	xmlDocPtr doc = xmlCtxtReadMemory(pc, buf, len, "document.xml", NULL, parseOptions);
	if (doc == NULL) {
		xmlErrorPtr err = xmlCtxtGetLastError(pc);
		errsAdd(e, err ? err->line : 0, err && err->message ? err->message : "not well-formed XML");
		xmlFreeParserCtxt(pc);
		return 1;
	}
	xmlFreeParserCtxt(pc);
	if (doc->intSubset != NULL || doc->extSubset != NULL) {
		xmlFreeDoc(doc);
		errsAdd(e, 0, "a DTD (<!DOCTYPE ...>) is not allowed");
		return 1;
	}
	xmlNodePtr root = xmlDocGetRootElement(doc);
	if (rootName != NULL && (root == NULL || root->ns == NULL ||
			xmlStrcmp(root->name, (const xmlChar *)rootName) != 0 ||
			xmlStrcmp(root->ns->href, (const xmlChar *)rootNS) != 0)) {
		char msg[512];
		snprintf(msg, sizeof msg, "the root element is not {%s}%s", rootNS, rootName);
		errsAdd(e, root ? root->line : 0, msg);
		xmlFreeDoc(doc);
		return 1;
	}
	xmlSchemaValidCtxtPtr vc = xmlSchemaNewValidCtxt(s);
	if (vc == NULL) { xmlFreeDoc(doc); errsAdd(e, 0, "cannot create a validation context"); return -1; }
	xmlSchemaSetValidStructuredErrors(vc, onError, e);
	int rc = xmlSchemaValidateDoc(vc, doc);
	xmlSchemaFreeValidCtxt(vc);
	xmlFreeDoc(doc);
	if (rc > 0) {
		if (e->n == 0) errsAdd(e, 0, "not valid");
		return 1;
	}
	return rc < 0 ? -1 : 0;
}
*/
import "C"

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"unsafe"
)

// StreamAbove is the size above which a document is streamed through the
// schema instead of parsed into a tree: a tree costs many times the
// document's bytes, and every real single-DTE upload is far smaller.
const StreamAbove = 1 << 20

// maxMessages bounds the messages kept from one validation.
const maxMessages = 20

// initOnce runs libxml2's own initialisation, which libxml2 requires once
// per process before it is used from several threads.
var initOnce sync.Once

// Schema is a compiled XML Schema.
type Schema struct {
	name    string
	ptr     C.xmlSchemaPtr
	cleanup runtime.Cleanup
	mu      sync.RWMutex // Close waits for validations in flight
}

// Compile reads and compiles the schema at path (with what it includes and
// imports, by relative path).
func Compile(path string) (*Schema, error) {
	initOnce.Do(func() { C.xmlInitParser() })
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("xsd: %w", err) // before libxml2 prints its own warning
	}
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	e := C.errsNew(maxMessages)
	if e == nil {
		return nil, errors.New("xsd: out of memory")
	}
	defer func() { C.errsFree(e); C.free(unsafe.Pointer(e)) }()
	ptr := C.compile(cpath, e)
	if ptr == nil {
		return nil, fmt.Errorf("xsd: compile %s: %v", path, messages(e))
	}
	s := &Schema{name: filepath.Base(path), ptr: ptr}
	s.cleanup = runtime.AddCleanup(s, func(p C.xmlSchemaPtr) { C.xmlSchemaFree(p) }, ptr)
	return s, nil
}

// Name is the schema file's base name.
func (s *Schema) Name() string { return s.name }

// Validate parses doc (in the encoding it declares) and validates it. It
// returns nil when valid, an *Invalid when doc is not well-formed or not
// valid, and another error when validation could not run. Any global
// element of the schema (and of what it includes) is accepted as the root:
// see ValidateRoot.
func (s *Schema) Validate(doc []byte) error { return s.validate(doc, "", "") }

// ValidateRoot is Validate for a document whose root element must be
// {ns}name: a schema that includes another one also declares that one's
// elements (EnvioDTE_v10.xsd accepts a lone DTE).
func (s *Schema) ValidateRoot(doc []byte, ns, name string) error { return s.validate(doc, ns, name) }

func (s *Schema) validate(doc []byte, ns, name string) error {
	if len(doc) == 0 {
		return &Invalid{Schema: s.name, Problems: []string{"empty document"}}
	}
	if len(doc) > math.MaxInt32 {
		return &Invalid{Schema: s.name, Problems: []string{"document larger than 2 GiB"}}
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.ptr == nil {
		return ErrClosed
	}
	e := C.errsNew(maxMessages)
	if e == nil {
		return errors.New("xsd: out of memory")
	}
	defer func() { C.errsFree(e); C.free(unsafe.Pointer(e)) }()
	// libxml2 reads the bytes during the call and keeps no reference to
	// them: no copy is needed.
	buf := (*C.char)(unsafe.Pointer(unsafe.SliceData(doc)))
	var cns, cname *C.char
	if name != "" {
		cns, cname = C.CString(ns), C.CString(name)
		defer C.free(unsafe.Pointer(cns))
		defer C.free(unsafe.Pointer(cname))
	}
	var rc C.int
	if len(doc) > StreamAbove {
		rc = C.validateStream(s.ptr, buf, C.int(len(doc)), cns, cname, e)
	} else {
		rc = C.validateTree(s.ptr, buf, C.int(len(doc)), cns, cname, e)
	}
	switch rc {
	case 0:
		return nil
	case 1:
		return &Invalid{Schema: s.name, Problems: messages(e)}
	default:
		return fmt.Errorf("xsd: %s: validation could not run: %v", s.name, messages(e))
	}
}

// Close frees the compiled schema once the validations in flight end;
// later Validate calls fail with ErrClosed. Without Close, the schema is
// freed when the Schema is collected.
func (s *Schema) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ptr != nil {
		s.cleanup.Stop()
		C.xmlSchemaFree(s.ptr)
		s.ptr = nil
	}
}

func messages(e *C.errs) []string {
	var out []string
	for i := 0; i < int(e.n); i++ {
		out = append(out, C.GoString(C.errsMsg(e, C.int(i))))
	}
	if e.dropped > 0 {
		out = append(out, fmt.Sprintf("… and %d more", int(e.dropped)))
	}
	return out
}
