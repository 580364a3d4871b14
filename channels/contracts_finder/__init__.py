"""Contracts Finder, the Cabinet Office's portal for PCR 2015 opportunities (regulations 106-112),
above and below the threshold: its own Notice model as JSON, sent as a draft and then published,
through the API at https://www.contractsfinder.service.gov.uk/apidocumentation.

    notice.py     what is sent: the Notice (contract) or the withdrawal request (cancellation)
    jsontext.py   the bytes: deterministic JSON with money as exact decimal numbers
    tokens.py     the bearer token, shared by the worker's threads until it expires
    answers.py    reading the service's answers (tokens, ids, FullNotice, errors, rate limit)
    api.py        the requests: settings, token, rate limit, errors mapped at one boundary
    channel.py    the adapter: render, and the operations (draft, publish, read back, withdraw)

The contract is docs/channels/contracts-finder.md; the simulator is syndicator/sandbox/contracts_finder.py.
"""

from channels.contracts_finder.api import ContractsFinderSettings
from channels.contracts_finder.channel import ContractsFinderChannel

__all__ = ["ContractsFinderChannel", "ContractsFinderSettings"]
