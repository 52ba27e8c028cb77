"""The Python side of the comparison: Mirascope + Tenacity, 1,000 attempts against
`retrylab sim` (999 server errors, then an answer). Prints the seconds the call took."""
import sys
import time

import openai
from mirascope import llm
from tenacity import retry, retry_if_exception_type, stop_after_attempt

base_url = sys.argv[1]
client = openai.OpenAI(base_url=base_url, api_key="sim", max_retries=0)


@retry(stop=stop_after_attempt(1000), retry=retry_if_exception_type(openai.InternalServerError))
@llm.call(provider="openai", model="gpt-4o-mini", client=client)
def recommend_book(genre: str) -> str:
    return f"Recommend a {genre} book"


start = time.perf_counter()
response = recommend_book("fantasy")
elapsed = time.perf_counter() - start
assert response.content == "The Name of the Wind.", response.content
print(f"{elapsed:.3f}")
