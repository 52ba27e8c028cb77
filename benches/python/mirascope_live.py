"""Live mode, the Python side: Mirascope + Tenacity making 1,000 attempts against a loopback
server that answers every request with a 500 (llmock), no wait between them. Prints the
seconds the 1,000 attempts took."""
import sys
import time

import openai
from mirascope import llm
from tenacity import RetryError, retry, retry_if_exception_type, stop_after_attempt

base_url = sys.argv[1]
attempts = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
client = openai.OpenAI(base_url=base_url, api_key="bench", max_retries=0)


@retry(stop=stop_after_attempt(attempts), retry=retry_if_exception_type(openai.InternalServerError))
@llm.call(provider="openai", model="gpt-4o-mini", client=client)
def recommend_book(genre: str) -> str:
    return f"Recommend a {genre} book"


start = time.perf_counter()
try:
    recommend_book("fantasy")
    raise SystemExit("expected every attempt to fail")
except RetryError:
    pass
elapsed = time.perf_counter() - start
print(f"{elapsed:.3f}")
