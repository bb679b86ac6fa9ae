"""What the S3 check scripts share: a boto3 client for the cluster under test (path-style,
one attempt: no retry hides a failure), S3 error codes, checks registered with @check, and
a runner that tries every check and reports each failure."""
import sys

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

sys.dont_write_bytecode = True  # keep the source tree clean


def client(endpoint, key="test:tester", secret="testing", sig="s3v4", **config):
    # total_max_attempts counts the first try (legacy max_attempts=1 still retried once).
    cfg = Config(signature_version=sig, s3={"addressing_style": "path"}, retries=NO_RETRIES, **config)
    return boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=key, aws_secret_access_key=secret,
                        region_name="us-east-1", config=cfg)


NO_RETRIES = {"total_max_attempts": 1, "mode": "standard"}
CHECKS = []


def check(fn):
    """Registers a check for `run_checks(CHECKS, ...)`."""
    CHECKS.append(fn)
    return fn


def error_of(fn, *a, **kw):
    """The (S3 error code, HTTP status) fn fails with, or None if it succeeds."""
    try:
        fn(*a, **kw)
    except ClientError as e:
        return e.response["Error"].get("Code"), e.response["ResponseMetadata"]["HTTPStatusCode"]
    return None


def code_of(resp):
    """The <Code> of an S3 error document in a `requests` response ('' if none)."""
    text = resp.text
    start = text.find("<Code>")
    return text[start + 6:text.find("</Code>")] if start >= 0 else ""


def expect_error(code, status, fn, *a, **kw):
    """Calls fn, which must fail with S3 error `code` and HTTP `status`; returns the error."""
    try:
        fn(*a, **kw)
    except ClientError as e:
        got = (e.response["Error"].get("Code"), e.response["ResponseMetadata"]["HTTPStatusCode"])
        assert got == (code, status), f"expected {code}/{status}, got {got}: {e.response}"
        assert e.response["ResponseMetadata"]["HTTPHeaders"].get("x-amz-request-id"), "no x-amz-request-id"
        return e
    raise AssertionError(f"expected {code}, the call succeeded")


def run_checks(checks, done):
    """Runs every check even when an earlier one fails, so one run shows each hole at once;
    prints `done` when all passed, else exits non-zero naming the failures."""
    failed = []
    for check in checks:
        try:
            check()
        except Exception as e:  # noqa: BLE001 - report every failing check, then fail the run
            print(f"FAILED {check.__name__}: {type(e).__name__}: {e}")
            failed.append(check.__name__)
    if failed:
        sys.exit(f"{len(failed)} checks failed: {', '.join(failed)}")
    print(done)
