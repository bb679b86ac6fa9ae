"""S3 additional checksums with the real boto3 (and awscrt for CRC32C and CRC64NVME):
every algorithm sent as a header is verified, kept and returned with ChecksumMode;
a wrong one is BadDigest and stores nothing; aws-chunked bodies with a trailing
checksum, unsigned and signed, are held to it; DeleteObjects is held to its checksum.
Usage: checksums.py <endpoint> <swift auth url>. Prints one line per check; any failure raises."""

import base64
import socket
import sys
import urllib.parse
import zlib

import requests

import s3check
import sigv4
from s3check import CHECKS, check, error_of

EP, AUTH = sys.argv[1], sys.argv[2]
HOST = urllib.parse.urlparse(EP).netloc
BUCKET = "sums"
ALGORITHMS = ["CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"]
KEY_ID, SECRET = "test:tester", "testing"

s3 = s3check.client(EP, KEY_ID, SECRET)


def absent(key):
    return error_of(s3.head_object, Bucket=BUCKET, Key=key) == ("404", 404)


def crc32_b64(data):
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


@check
def every_algorithm_is_kept_and_returned():
    for alg in ALGORITHMS:
        key, data = f"obj-{alg}", f"checked with {alg}".encode() * 1000
        put = s3.put_object(Bucket=BUCKET, Key=key, Body=data, ChecksumAlgorithm=alg)
        sent = put.get(f"Checksum{alg}")
        assert sent, f"PutObject echoes the {alg} checksum: {put['ResponseMetadata']['HTTPHeaders']}"
        got = s3.get_object(Bucket=BUCKET, Key=key, ChecksumMode="ENABLED")
        assert got.get(f"Checksum{alg}") == sent, (alg, got["ResponseMetadata"]["HTTPHeaders"])
        assert got["Body"].read() == data
        head = s3.head_object(Bucket=BUCKET, Key=key, ChecksumMode="ENABLED")
        assert head.get(f"Checksum{alg}") == sent, (alg, head["ResponseMetadata"]["HTTPHeaders"])
        # Without the mode, and for a range, no checksum is shown.
        plain = s3.head_object(Bucket=BUCKET, Key=key)
        assert f"Checksum{alg}" not in plain, plain
        ranged = s3.get_object(Bucket=BUCKET, Key=key, Range="bytes=0-9", ChecksumMode="ENABLED")
        assert f"Checksum{alg}" not in ranged and ranged["Body"].read() == data[:10]


@check
def a_wrong_checksum_is_bad_digest_and_stores_nothing():
    wrong = base64.b64encode(b"\0" * 32).decode()
    got = error_of(s3.put_object, Bucket=BUCKET, Key="never", Body=b"some bytes", ChecksumSHA256=wrong)
    assert got == ("BadDigest", 400), got
    assert absent("never")
    s3.put_object(Bucket=BUCKET, Key="kept", Body=b"first")
    got = error_of(s3.put_object, Bucket=BUCKET, Key="kept", Body=b"second", ChecksumCRC32=crc32_b64(b"other"))
    assert got == ("BadDigest", 400), got
    assert s3.get_object(Bucket=BUCKET, Key="kept")["Body"].read() == b"first", "the old object stays"
    bad = error_of(s3.put_object, Bucket=BUCKET, Key="never", Body=b"x", ChecksumCRC32="not base64")
    assert bad == ("InvalidRequest", 400), bad


@check
def parts_are_verified_and_uploads_complete():
    up = s3.create_multipart_upload(Bucket=BUCKET, Key="mpu", ChecksumAlgorithm="CRC32")["UploadId"]
    data = b"p" * (5 << 20)
    r = s3.upload_part(Bucket=BUCKET, Key="mpu", UploadId=up, PartNumber=1, Body=data, ChecksumAlgorithm="CRC32")
    assert r.get("ChecksumCRC32") == crc32_b64(data), r
    got = error_of(s3.upload_part, Bucket=BUCKET, Key="mpu", UploadId=up, PartNumber=2, Body=b"tail",
                   ChecksumCRC32=crc32_b64(b"TAIL"))
    assert got == ("BadDigest", 400), got
    r2 = s3.upload_part(Bucket=BUCKET, Key="mpu", UploadId=up, PartNumber=2, Body=b"tail", ChecksumAlgorithm="CRC32")
    parts = [{"PartNumber": 1, "ETag": r["ETag"], "ChecksumCRC32": r["ChecksumCRC32"]},
             {"PartNumber": 2, "ETag": r2["ETag"], "ChecksumCRC32": r2["ChecksumCRC32"]}]
    s3.complete_multipart_upload(Bucket=BUCKET, Key="mpu", UploadId=up, MultipartUpload={"Parts": parts})
    assert s3.get_object(Bucket=BUCKET, Key="mpu")["Body"].read() == data + b"tail"


def raw_put(key, body, payload, extra):
    """A signed PUT of an aws-chunked `body` (built by `body(key, amz_date, scope, seed)`)."""
    headers = {"content-encoding": "aws-chunked", "x-amz-trailer": "x-amz-checksum-crc32", **extra}
    path = f"/{BUCKET}/{key}"
    h, skey, amz_date, scope, seed = sigv4.sign("PUT", HOST, path, "", headers, payload, KEY_ID, SECRET)
    data = body(skey, amz_date, scope, seed)
    return requests.put(EP + path, headers=h, data=data, timeout=30)


def unsigned_trailer_body(data, trailer):
    def build(_key, _date, _scope, _seed):
        out = f"{len(data):x}\r\n".encode() + data + b"\r\n"
        return out + b"0\r\n" + f"x-amz-checksum-crc32:{trailer}\r\n\r\n".encode()
    return build


def kept_checksum(key):
    return s3.head_object(Bucket=BUCKET, Key=key, ChecksumMode="ENABLED").get("ChecksumCRC32")


@check
def an_unsigned_trailer_is_held_to_its_checksum_and_kept():
    # Small bodies are buffered by the proxy, large ones streamed to the replicas.
    for size in (1800, 3 << 20):
        data = (b"trailing checksum " * (size // 18 + 1))[:size]
        extra = {"x-amz-decoded-content-length": str(len(data))}
        ok = raw_put("trailed", unsigned_trailer_body(data, crc32_b64(data)), sigv4.UNSIGNED_TRAILER, extra)
        assert ok.status_code == 200, (ok.status_code, ok.text)
        assert s3.get_object(Bucket=BUCKET, Key="trailed")["Body"].read() == data
        assert kept_checksum("trailed") == crc32_b64(data), (size, kept_checksum("trailed"))
        bad = raw_put("untrailed", unsigned_trailer_body(data, crc32_b64(b"else")), sigv4.UNSIGNED_TRAILER, extra)
        assert bad.status_code == 400 and "<Code>BadDigest</Code>" in bad.text, (bad.status_code, bad.text)
        assert absent("untrailed")


@check
def a_signed_trailer_is_checked():
    data = b"signed and trailed " * 100
    extra = {"x-amz-decoded-content-length": str(len(data))}

    def body(trailer):
        def build(key, amz_date, scope, seed):
            return sigv4.chunked_body_with_trailer(data, 512, key, amz_date, scope, seed,
                                                   f"x-amz-checksum-crc32:{trailer}")
        return build

    ok = raw_put("signed", body(crc32_b64(data)), sigv4.SIGNED_TRAILER, extra)
    assert ok.status_code == 200, (ok.status_code, ok.text)
    assert s3.get_object(Bucket=BUCKET, Key="signed")["Body"].read() == data
    assert kept_checksum("signed") == crc32_b64(data)
    bad = raw_put("unsigned", body(crc32_b64(b"else")), sigv4.SIGNED_TRAILER, extra)
    assert bad.status_code == 400 and "<Code>BadDigest</Code>" in bad.text, (bad.status_code, bad.text)
    assert absent("unsigned")


@check
def swift_clients_cannot_send_footers():
    """A Swift client's chunked trailer naming system metadata (and the header that
    announces footers) is not stored: only the S3 API's own checked trailer is."""
    r = requests.get(AUTH, headers={"X-Auth-User": "test:tester", "X-Auth-Key": "testing"}, timeout=30)
    token, url = r.headers["X-Auth-Token"], urllib.parse.urlparse(r.headers["X-Storage-Url"])
    name = "x-object-sysmeta-s3api-checksum-crc32"
    head = (f"PUT {url.path}/{BUCKET}/forged HTTP/1.1\r\nHost: {url.netloc}\r\nX-Auth-Token: {token}\r\n"
            f"Transfer-Encoding: chunked\r\nTrailer: {name}\r\nX-Backend-Footers: {name}\r\n"
            "Connection: close\r\n\r\n")
    body = f"5\r\nhello\r\n0\r\n{name}: AAAAAA==\r\n\r\n"
    with socket.create_connection((url.hostname, url.port), timeout=30) as c:
        c.sendall((head + body).encode())
        answer = c.recv(4096)
    assert answer.startswith(b"HTTP/1.1 201"), answer
    assert s3.get_object(Bucket=BUCKET, Key="forged")["Body"].read() == b"hello"
    assert kept_checksum("forged") is None, "a client's trailer became system metadata"


@check
def delete_objects_is_held_to_its_checksum():
    s3.put_object(Bucket=BUCKET, Key="victim", Body=b"x")
    doc = b"<Delete><Object><Key>victim</Key></Object></Delete>"
    headers = {"x-amz-checksum-crc32": crc32_b64(b"another document"), "content-type": "application/xml"}
    h, *_ = sigv4.sign("POST", HOST, f"/{BUCKET}", "delete=", headers, sigv4.UNSIGNED, KEY_ID, SECRET)
    r = requests.post(f"{EP}/{BUCKET}?delete=", headers=h, data=doc, timeout=30)
    assert r.status_code == 400 and "<Code>BadDigest</Code>" in r.text, (r.status_code, r.text)
    assert not absent("victim"), "nothing was deleted"
    # boto3 sends its own (right) checksum.
    s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": "victim"}]})
    assert absent("victim")


s3.create_bucket(Bucket=BUCKET)
s3check.run_checks(CHECKS, "all checksum checks passed")
