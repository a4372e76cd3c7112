package archive

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

var _ VersionPurger = (*S3)(nil)

// PurgeVersions deletes every version and delete marker of the objects
// whose key starts with prefix. On a versioned bucket Delete only hides an
// object behind a delete marker; this removes it for good. On a bucket
// without versioning it deletes the objects (their one version is "null").
// A server that does not implement ListObjectVersions (501 NotImplemented)
// keeps no versions: then the objects are deleted one by one.
func (s *S3) PurgeVersions(ctx context.Context, prefix string) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	in := &s3.ListObjectVersionsInput{Bucket: &s.cfg.Bucket, Prefix: aws.String(prefix), MaxKeys: aws.Int32(s.cfg.ListPageSize)}
	for {
		page, err := s.client.ListObjectVersions(ctx, in)
		if err != nil {
			if code := codeOf(err); code == "NotImplemented" || statusOf(err) == http.StatusNotImplemented {
				return s.deleteUnder(ctx, prefix)
			}
			return s.classify("list versions", prefix, err)
		}
		type version struct{ key, id string }
		var all []version
		for _, v := range page.Versions {
			all = append(all, version{aws.ToString(v.Key), aws.ToString(v.VersionId)})
		}
		for _, m := range page.DeleteMarkers {
			all = append(all, version{aws.ToString(m.Key), aws.ToString(m.VersionId)})
		}
		var errs []error
		for _, v := range all {
			if !strings.HasPrefix(v.key, prefix) {
				continue
			}
			_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.cfg.Bucket, Key: aws.String(v.key), VersionId: versionID(v.id)})
			if err != nil {
				if cerr := s.classify("delete version "+v.id+" of", v.key, err); !errors.Is(cerr, ErrNotFound) {
					errs = append(errs, cerr)
				}
			}
		}
		if err := errors.Join(errs...); err != nil {
			return err
		}
		if !aws.ToBool(page.IsTruncated) {
			return nil
		}
		in.KeyMarker, in.VersionIdMarker = page.NextKeyMarker, page.NextVersionIdMarker
	}
}

// versionID is the VersionId to delete: none for a server that lists
// versions without ids.
func versionID(id string) *string {
	if id == "" {
		return nil
	}
	return aws.String(id)
}

// deleteUnder deletes the current objects under prefix.
func (s *S3) deleteUnder(ctx context.Context, prefix string) error {
	infos, err := s.List(ctx, prefix)
	if err != nil {
		return err
	}
	for _, i := range infos {
		if err := s.Delete(ctx, i.Key); err != nil {
			return fmt.Errorf("purge %s: %w", prefix, err)
		}
	}
	return nil
}
