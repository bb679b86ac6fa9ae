"""The MinIO Python client: a small put_object and a multipart one (an unknown length with
part_size 5 MiB), list_objects, byte-exact get_object, remove_object, an empty listing.
Usage: minio_client.py <endpoint> [certificate to trust, over https]."""

import io
import os
import sys
from urllib.parse import urlparse

import urllib3
from minio import Minio

EP = urlparse(sys.argv[1])
secure = EP.scheme == "https"
http = None
retry = urllib3.Retry(total=0, connect=0, read=0, redirect=0, status=0)
if secure:
    http = urllib3.PoolManager(cert_reqs="CERT_REQUIRED", ca_certs=sys.argv[2], retries=retry)
else:
    http = urllib3.PoolManager(retries=retry)
mc = Minio(EP.netloc, access_key="test:tester", secret_key="testing", region="us-east-1",
           secure=secure, http_client=http)

mc.make_bucket("minio")
small = os.urandom(100_000)
mc.put_object("minio", "small", io.BytesIO(small), len(small))
print("ok: small upload")

big = os.urandom(12 << 20)
# length -1: the client cannot know the size and must go multipart in part_size parts.
res = mc.put_object("minio", "big", io.BytesIO(big), -1, part_size=5 << 20)
assert res.etag.strip('"').endswith("-3"), f"a 12 MiB upload in 5 MiB parts has a 3-part ETag: {res.etag}"
print("ok: multipart upload")

keys = sorted(o.object_name for o in mc.list_objects("minio", recursive=True))
assert keys == ["big", "small"], keys
for key, data in (("small", small), ("big", big)):
    r = mc.get_object("minio", key)
    try:
        got = r.read()
    finally:
        r.close()
        r.release_conn()
    assert got == data, f"{key} reads back byte-exact ({len(got)} of {len(data)} bytes)"
print("ok: list and downloads")

for key in keys:
    mc.remove_object("minio", key)
left = list(mc.list_objects("minio", recursive=True))
assert left == [], [o.object_name for o in left]
print("all MinIO client checks passed")
