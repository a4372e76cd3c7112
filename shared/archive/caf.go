package archive

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/dtecl/pipeline/shared/rut"
)

// CAFFile is a CAF file as stored, with what its key says about it. The
// bytes are the SII's file unchanged (ISO-8859-1); parse them with
// shared/caf.
type CAFFile struct {
	Key string
	CAFRef
	Data []byte
}

// PutCAF stores a CAF file at CAFObjectKey. The caller must have checked
// the SII's signature on it and read issuer, type and range from it. It is
// idempotent: the same bytes already there give created == false and no
// error; different bytes under the same range are ErrExists.
func (a *Archive) PutCAF(ctx context.Context, issuer rut.RUT, docType int, from, to int64, data []byte) (key string, created bool, err error) {
	key, err = CAFObjectKey(issuer, docType, from, to)
	if err != nil {
		return "", false, err
	}
	meta := map[string]string{MetaSHA256: Digest(data)}
	err = a.putIfAbsent(ctx, key, data, PutOptions{ContentType: contentTypeXML, Metadata: meta})
	if errors.Is(err, ErrExists) {
		obj, gerr := a.store.Get(ctx, key)
		if gerr != nil {
			return key, false, fmt.Errorf("store CAF %s: %w", key, gerr)
		}
		if bytes.Equal(obj.Body, data) {
			return key, false, nil
		}
		return key, false, fmt.Errorf("store CAF %s: a different file is stored for this range: %w", key, err)
	}
	if err != nil {
		return key, false, fmt.Errorf("store CAF %s: %w", key, err)
	}
	return key, true, nil
}

// CAFs reads every CAF file of one issuer and document type, ordered by
// range: what the sign function picks the folio's CAF from.
func (a *Archive) CAFs(ctx context.Context, issuer rut.RUT, docType int) ([]CAFFile, error) {
	if docType == 0 {
		return nil, invalidKey("CAFs: document type 0")
	}
	return a.ListCAFs(ctx, issuer, docType)
}

// ListCAFs reads the CAF files under CAFPrefix(issuer, docType): all of
// them for a zero RUT, one issuer's for docType 0. Objects under caf/ whose
// key is not a CAF key are skipped with a warning in the log. Ordered by
// issuer, type and range.
func (a *Archive) ListCAFs(ctx context.Context, issuer rut.RUT, docType int) ([]CAFFile, error) {
	prefix, err := CAFPrefix(issuer, docType)
	if err != nil {
		return nil, err
	}
	infos, err := a.store.List(ctx, prefix)
	if err != nil {
		return nil, fmt.Errorf("list CAFs: %w", err)
	}
	var files []CAFFile
	for _, info := range infos {
		ref, err := ParseCAFObjectKey(info.Key)
		if err != nil {
			a.log.Warn("archive: skipping a stray object among the CAFs", "key", info.Key, "error", err)
			continue
		}
		obj, err := a.store.Get(ctx, info.Key)
		if errors.Is(err, ErrNotFound) {
			continue // deleted since the listing
		}
		if err != nil {
			return nil, fmt.Errorf("read CAF: %w", err)
		}
		files = append(files, CAFFile{Key: info.Key, CAFRef: ref, Data: obj.Body})
	}
	slices.SortFunc(files, func(x, y CAFFile) int {
		return cmp.Or(
			cmp.Compare(x.Issuer.Number, y.Issuer.Number),
			cmp.Compare(x.Type, y.Type),
			cmp.Compare(x.From, y.From),
			cmp.Compare(x.To, y.To),
		)
	})
	return files, nil
}
