"""Copied as `sitecustomize.py` into a directory on PYTHONPATH, it stubs AWS in every Python
process started under it: each `boto3.client(service)` is a real client wrapped in a botocore
Stubber, loaded with that service's answers from the JSON file $INFRAKIT_TEST_AWS_ANSWERS
({"ecs": [[operation, response, expected parameters or null], ...], ...}). Nothing is sent out: a
call with no answer left fails in the Stubber."""

import json
import os

_ANSWERS = os.environ.get("INFRAKIT_TEST_AWS_ANSWERS")

if _ANSWERS:
    import boto3
    from botocore.stub import Stubber

    with open(_ANSWERS) as _file:
        _by_service = json.load(_file)
    _real_client = boto3.client

    def _stubbed_client(service_name, *args, **kwargs):
        client = _real_client(service_name, *args, **kwargs)
        stubber = Stubber(client)
        for operation, response, params in _by_service.get(service_name, []):
            stubber.add_response(operation, response, params)
        stubber.activate()
        return client

    boto3.client = _stubbed_client
