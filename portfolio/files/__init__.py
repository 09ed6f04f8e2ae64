"""Uploaded files: content-addressed blob storage (local folder or S3), media probing from the
bytes, and safe upload and serving of blobs."""
