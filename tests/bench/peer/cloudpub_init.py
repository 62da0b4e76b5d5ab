# What a Python Lambda built on cloudpub does at init: import it, build its client (AzureService builds a
# requests session; it logs in only on its first API call, so nothing here touches the network), then
# ask the Runtime API for work. The benchmark times spawn -> that request, as it does for the bootstraps.
import os
import urllib.request

from cloudpub.ms_azure import AzureService

service = AzureService(
    {
        "AZURE_TENANT_ID": "bench-tenant",
        "AZURE_CLIENT_ID": "bench-client-id",
        "AZURE_API_SECRET": "bench-client-secret",
    }
)

api = os.environ["AWS_LAMBDA_RUNTIME_API"]
urllib.request.urlopen(f"http://{api}/2018-06-01/runtime/invocation/next")
