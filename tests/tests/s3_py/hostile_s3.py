"""Hostile S3 clients: unsigned headers smuggled into signed requests, anonymous probes,
malformed bodies. Usage: hostile_s3.py <endpoint>. Any failure raises."""

import sys

import requests
from botocore.exceptions import ClientError

sys.dont_write_bytecode = True
import s3check  # noqa: E402
from s3check import code_of, run_checks  # noqa: E402

EP = sys.argv[1]


def client(key="test:tester", secret="testing", sig="s3v4"):
    return s3check.client(EP, key, secret, sig)


s3 = client()
# A user of the bucket's account without rights of its own: an S3 path names no account,
# so a user of another account (test2:tester2) would look in its own and find no bucket.
member = client("test:tester3", "testing3")


def presigned_put_cannot_become_a_copy():
    s3.create_bucket(Bucket="private")
    s3.put_object(Bucket="private", Key="secret", Body=b"the private object")
    s3.create_bucket(Bucket="uploads")
    url = s3.generate_presigned_url("put_object", Params={"Bucket": "uploads", "Key": "dropped"}, ExpiresIn=300)
    # The uploader holds only this URL; adding x-amz-copy-source must not copy the private object.
    r = requests.put(url, data=b"", headers={"x-amz-copy-source": "/private/secret"})
    assert r.status_code == 403 and code_of(r) == "AccessDenied", (r.status_code, r.text)
    assert "not signed" in r.text, r.text
    try:
        s3.head_object(Bucket="uploads", Key="dropped")
        raise AssertionError("the smuggled copy was stored")
    except ClientError as e:
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    # Other unsigned x-amz-* headers are refused the same way; the plain upload still works.
    r = requests.put(url, data=b"upload", headers={"x-amz-meta-evil": "1"})
    assert r.status_code == 403 and "not signed" in r.text, (r.status_code, r.text)
    r = requests.put(url, data=b"upload")
    assert r.status_code == 200, (r.status_code, r.text)
    print("ok presigned PUT: unsigned x-amz-* headers refused")


def anonymous_requests_are_refused():
    base = EP.rstrip("/")
    for method, path in [("GET", "/private/secret"), ("HEAD", "/private/secret"), ("GET", "/private"),
                         ("PUT", "/private/planted"), ("DELETE", "/private/secret"), ("GET", "/"),
                         ("POST", "/private?delete"), ("PUT", "/newbucket")]:
        r = requests.request(method, base + path, data=b"x" if method in ("PUT", "POST") else None)
        assert r.status_code == 403, (method, path, r.status_code, r.text)
    print("ok anonymous S3 requests refused")


def authenticated_read_is_not_public():
    s3.create_bucket(Bucket="authread", ACL="authenticated-read")
    s3.put_object(Bucket="authread", Key="k", Body=b"for members")
    assert member.get_object(Bucket="authread", Key="k")["Body"].read() == b"for members"
    r = requests.get(EP.rstrip("/") + "/authread/k")
    assert r.status_code == 403, (r.status_code, r.text)
    print("ok authenticated-read: members read, strangers do not")


def cors_preflight_reveals_nothing():
    base = EP.rstrip("/")
    h = {"Origin": "http://evil.example", "Access-Control-Request-Method": "GET"}
    exists = requests.options(base + "/private/secret", headers=h)
    missing = requests.options(base + "/no-such-bucket-anywhere/secret", headers=h)
    assert exists.status_code == missing.status_code == 403, (exists.status_code, missing.status_code)
    assert code_of(exists) == code_of(missing), (exists.text, missing.text)
    print("ok anonymous CORS preflight: same answer for a bucket that exists and one that does not")


def odd_multipart_listings_do_not_crash():
    s3.create_bucket(Bucket="mpu")
    s3.create_multipart_upload(Bucket="mpu", Key="é/part")
    for params in [{"Prefix": "é"}, {"Prefix": "\u00e9/p", "Delimiter": "/"}, {"KeyMarker": "é", "Prefix": "\u00e9"},
                   {"Prefix": "x" * 1024}, {"Delimiter": "é"},
                   {"Prefix": "é/part/", "Delimiter": "/"}, {"Prefix": "é/part/0", "Delimiter": "é"},
                   {"KeyMarker": "é/p", "UploadIdMarker": "é"}]:
        s3.list_multipart_uploads(Bucket="mpu", **params)
    r = requests.get(EP.rstrip("/") + "/mpu?uploads&prefix=%C3", headers={})
    assert r.status_code in (400, 403), (r.status_code, r.text)
    print("ok ListMultipartUploads with multi-byte prefixes")


def oversized_xml_is_refused_before_it_is_read():
    big = b"<Delete>" + b"<Object><Key>k</Key></Object>" * 200_000 + b"</Delete>"
    try:
        s3.delete_objects(Bucket="private", Delete={"Objects": [{"Key": f"k{i}"} for i in range(1001)]})
        raise AssertionError("1001 keys accepted")
    except ClientError as e:
        assert e.response["Error"]["Code"] == "MalformedXML", e.response
    r = requests.post(EP.rstrip("/") + "/private?delete", data=big)
    assert r.status_code in (400, 403), (r.status_code, r.text[:200])
    print("ok oversized and over-long DeleteObjects refused")


run_checks([presigned_put_cannot_become_a_copy, anonymous_requests_are_refused, authenticated_read_is_not_public,
            cors_preflight_reveals_nothing, odd_multipart_listings_do_not_crash,
            oversized_xml_is_refused_before_it_is_read], "all hostile S3 checks passed")
