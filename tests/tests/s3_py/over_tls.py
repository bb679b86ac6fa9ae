"""boto3 over HTTPS as a new user runs it, with its default checksums: over TLS it streams
uploads as aws-chunked with a trailing CRC32 (STREAMING-UNSIGNED-PAYLOAD-TRAILER), which
must be accepted and checked. Small and multipart uploads, listing, byte-exact downloads,
delete. Usage: over_tls.py <https endpoint> <certificate to trust>."""

import io
import os
import sys

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

EP, CA = sys.argv[1], sys.argv[2]
assert EP.startswith("https://"), EP
cfg = Config(signature_version="s3v4", s3={"addressing_style": "path"},
             retries={"total_max_attempts": 1, "mode": "standard"})
s3 = boto3.client("s3", endpoint_url=EP, aws_access_key_id="test:tester", aws_secret_access_key="testing",
                  region_name="us-east-1", config=cfg, verify=CA)

sent = []
s3.meta.events.register("before-send.s3.PutObject", lambda request, **_: sent.append(dict(request.headers)))
s3.meta.events.register("before-send.s3.UploadPart", lambda request, **_: sent.append(dict(request.headers)))

s3.create_bucket(Bucket="tls")
small = os.urandom(100_000)
s3.put_object(Bucket="tls", Key="small", Body=io.BytesIO(small))
assert sent, "boto3 sent the PutObject"
h = {k.lower(): (v.decode() if isinstance(v, bytes) else v) for k, v in sent[-1].items()}
assert h.get("x-amz-content-sha256") == "STREAMING-UNSIGNED-PAYLOAD-TRAILER", h
assert h.get("x-amz-trailer") == "x-amz-checksum-crc32", h
got = s3.get_object(Bucket="tls", Key="small", ChecksumMode="ENABLED")
assert got["Body"].read() == small
# The trailer's checksum was kept: boto3 checks the body against it as it reads.
assert got.get("ChecksumCRC32"), got["ResponseMetadata"]["HTTPHeaders"]
print("ok: small upload with a trailing checksum, kept")

big = os.urandom(12 << 20)
transfer = TransferConfig(multipart_threshold=5 << 20, multipart_chunksize=5 << 20)
s3.upload_fileobj(io.BytesIO(big), "tls", "big", Config=transfer)
out = io.BytesIO()
s3.download_fileobj("tls", "big", out, Config=transfer)
assert out.getvalue() == big, "byte-exact multipart download"
print("ok: multipart upload and parallel download")

keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket="tls")["Contents"])
assert keys == ["big", "small"], keys
s3.delete_objects(Bucket="tls", Delete={"Objects": [{"Key": k} for k in keys]})
assert s3.list_objects_v2(Bucket="tls").get("KeyCount") == 0
print("ok: list and delete")
print("all TLS checks passed")
