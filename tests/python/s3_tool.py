"""boto3 on the command line for the S3 tests (tests/api/s3.rs).

The endpoint is S3_ENDPOINT; credentials come from the usual AWS_* variables.
  mkbucket NAME [versioned]   create a bucket (with versioning)
  put BUCKET KEY              store stdin as the object; prints its VersionId (or "-")
  get BUCKET KEY              writes the object to stdout
  ls BUCKET PREFIX            prints every key under PREFIX, one per line, sorted
"""
import os
import sys

import boto3


def main():
    s3 = boto3.client(
        "s3", endpoint_url=os.environ["S3_ENDPOINT"], region_name="us-east-1"
    )
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "mkbucket":
        s3.create_bucket(Bucket=args[0])
        if args[1:] == ["versioned"]:
            s3.put_bucket_versioning(
                Bucket=args[0], VersioningConfiguration={"Status": "Enabled"}
            )
    elif cmd == "put":
        r = s3.put_object(Bucket=args[0], Key=args[1], Body=sys.stdin.buffer.read())
        print(r.get("VersionId") or "-")
    elif cmd == "get":
        sys.stdout.buffer.write(s3.get_object(Bucket=args[0], Key=args[1])["Body"].read())
    elif cmd == "ls":
        keys = []
        for page in s3.get_paginator("list_objects_v2").paginate(
            Bucket=args[0], Prefix=args[1]
        ):
            keys.extend(o["Key"] for o in page.get("Contents", []))
        print("\n".join(sorted(keys)))
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
