# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read AWS state straight from the emulator with boto3, for integration targets to assert on.

    python -m tests.emulator.probe SERVICE OPERATION ['{"Json": "kwargs"}']

Prints the response as JSON (without ResponseMetadata).  An AWS error prints
``{"Error": {"Code": ..., "Message": ...}}`` and still exits 0, so a target can assert absence.
Endpoint and credentials come from AWS_ENDPOINT_URL and the other AWS_* variables, or --endpoint-url.
"""

import argparse
import base64
import datetime
import json
import os
import sys


def _default(value):
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if hasattr(value, "read"):
        return value.read().decode("utf-8", "replace")
    raise TypeError(f"cannot serialise {type(value).__name__}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("service")
    parser.add_argument("operation", help="boto3 method name, e.g. describe_notebook_instance")
    parser.add_argument("kwargs", nargs="?", default="{}")
    parser.add_argument("--endpoint-url", default=os.environ.get("AWS_ENDPOINT_URL"))
    parser.add_argument("--region", default=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
    parser.add_argument("--ca-bundle", default=os.environ.get("AWS_CA_BUNDLE"), help="CA of a TLS endpoint")
    args = parser.parse_args(argv)

    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError

    client = boto3.client(
        args.service,
        endpoint_url=args.endpoint_url,
        region_name=args.region,
        verify=args.ca_bundle or None,
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "testing"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "testing"),
        config=Config(retries={"max_attempts": 1}),
    )
    try:
        result = getattr(client, args.operation)(**json.loads(args.kwargs))
    except ClientError as error:
        result = {"Error": error.response.get("Error", {})}
    result.pop("ResponseMetadata", None)
    json.dump(result, sys.stdout, default=_default, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
