package azstorage

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
)

// uploadCompressed gzips data into the large-message container, creating
// the container on first use.
func (b *Backend) uploadCompressed(ctx context.Context, name string, data []byte) error {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if _, err := zw.Write(data); err != nil {
		return fmt.Errorf("azstorage: gzip %s: %w", name, err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("azstorage: gzip %s: %w", name, err)
	}
	container := b.names.LargeMessagesContainer()
	_, err := b.c.Blob.UploadBuffer(ctx, container, name, buf.Bytes(), nil)
	if bloberror.HasCode(err, bloberror.ContainerNotFound) {
		if _, cerr := b.c.Blob.CreateContainer(ctx, container, nil); cerr != nil && !bloberror.HasCode(cerr, bloberror.ContainerAlreadyExists) {
			return fmt.Errorf("azstorage: create container %s: %w", container, cerr)
		}
		_, err = b.c.Blob.UploadBuffer(ctx, container, name, buf.Bytes(), nil)
	}
	if err != nil {
		return fmt.Errorf("azstorage: upload %s/%s: %w", container, name, err)
	}
	return nil
}

// downloadCompressed reads and gunzips a blob of the large-message container.
func (b *Backend) downloadCompressed(ctx context.Context, name string) ([]byte, error) {
	container := b.names.LargeMessagesContainer()
	resp, err := b.c.Blob.DownloadStream(ctx, container, name, nil)
	if err != nil {
		return nil, fmt.Errorf("azstorage: download %s/%s: %w", container, name, err)
	}
	defer resp.Body.Close()
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("azstorage: %s/%s is not gzip: %w", container, name, err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("azstorage: gunzip %s/%s: %w", container, name, err)
	}
	return data, nil
}

// deleteBlobsWithPrefix removes every large-message blob whose name starts
// with prefix (as purge does for an instance).
func (b *Backend) deleteBlobsWithPrefix(ctx context.Context, prefix string) error {
	container := b.names.LargeMessagesContainer()
	cc := b.c.Blob.ServiceClient().NewContainerClient(container)
	p := cc.NewListBlobsFlatPager(&listOpts{Prefix: &prefix})
	for p.More() {
		page, err := p.NextPage(ctx)
		if err != nil {
			if bloberror.HasCode(err, bloberror.ContainerNotFound) {
				return nil
			}
			return fmt.Errorf("azstorage: list blobs %s/%s*: %w", container, prefix, err)
		}
		for _, item := range page.Segment.BlobItems {
			if _, err := b.c.Blob.DeleteBlob(ctx, container, *item.Name, nil); err != nil && !bloberror.HasCode(err, bloberror.BlobNotFound) {
				return fmt.Errorf("azstorage: delete blob %s/%s: %w", container, *item.Name, err)
			}
		}
	}
	return nil
}

// isNotFound reports a 404 from any of the storage services.
func isNotFound(err error) bool {
	var re *azcore.ResponseError
	return errors.As(err, &re) && re.StatusCode == http.StatusNotFound
}

// statusCode returns the HTTP status of a storage error, or 0.
func statusCode(err error) int {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		return re.StatusCode
	}
	return 0
}
