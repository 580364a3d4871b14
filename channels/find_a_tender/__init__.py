"""The Find a Tender channel (docs/channels/find-a-tender.md):

keys.py        settings; each buyer's own API key
release.py     the OCDS release of a UK4, a revised UK4 or a UK12 (UK profile), pure
payload.py     the upload body: the swap point for the official PA2023 upload schema
submission.py  reading the eSender API's NoticeInformation
adopt.py       finding a buyer's own notice in the public OCDS API
channel.py     the adapter
"""

from channels.find_a_tender.channel import FindATenderChannel
from channels.find_a_tender.keys import FindATenderSettings

__all__ = ["FindATenderChannel", "FindATenderSettings"]
