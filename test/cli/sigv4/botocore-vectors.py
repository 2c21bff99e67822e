"""Signature V4 vectors for test/cli/portal-signing.test.ts, computed by botocore (the AWS SDK for
Python: an implementation independent of the JavaScript signer the command line uses).

Regenerate: python3 test/cli/sigv4/botocore-vectors.py > test/cli/sigv4/botocore-vectors.json
"""
import datetime
import json

import botocore
import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

WHEN = datetime.datetime(2026, 11, 29, 12, 0, 0)
botocore.auth.get_current_datetime = lambda: WHEN

API = 'https://abc123defg.execute-api.eu-west-1.amazonaws.com/'
CASES = [
    {
        'name': 'submit an erasure',
        'method': 'POST',
        'path': '/portal/erasures',
        'body': json.dumps({'personIds': ['person_00001'], 'reason': 'gdpr-art-17', 'requestedBy': 'cli'}, separators=(',', ':')),
        'headers': {'idempotency-key': 'f0123456789abcdef0123-L2'},
    },
    {'name': 'read a record whose id needs escaping', 'method': 'GET', 'path': '/portal/erasures/hubspot%3A1%3Acontact%3A8812', 'headers': {}},
    {'name': 'the certificate as HTML', 'method': 'GET', 'path': '/portal/erasures/msg_2KWP/certificate', 'headers': {'accept': 'text/html'}},
    {
        'name': 'an extension',
        'method': 'POST',
        'path': '/portal/erasures/msg_2KWP/extension',
        'body': json.dumps({'months': 2, 'reason': 'several systems'}, separators=(',', ':')),
        'headers': {},
    },
]


def sign(case, credentials):
    url = API.rstrip('/') + case['path']
    headers = dict(case['headers'])
    if 'body' in case:
        headers['content-type'] = 'application/json'
    request = AWSRequest(method=case['method'], url=url, data=case.get('body'), headers=headers)
    botocore.auth.SigV4Auth(credentials, 'execute-api', 'eu-west-1').add_auth(request)
    return {k.lower(): v for k, v in request.headers.items() if k.lower() in ('authorization', 'x-amz-date', 'x-amz-security-token')}


vectors = []
for case in CASES:
    for token in (None, 'FQoGZXIvYXdzEXAMPLETOKEN'):
        credentials = Credentials('AKIDEXAMPLE', 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', token)
        vectors.append({**case, 'sessionToken': token, 'signed': sign(case, credentials)})

print(json.dumps({'botocore': botocore.__version__, 'apiUrl': API, 'region': 'eu-west-1', 'at': WHEN.isoformat() + 'Z', 'vectors': vectors}, indent=2))
