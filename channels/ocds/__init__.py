"""Building blocks for channels whose notices are OCDS releases (Open Contracting Data Standard
1.1.5): Source East Midlands today, Find a Tender (the UK profile) next. Pure functions that
return plain dicts in a fixed key order; a channel assembles them and owns only what is its own
(ids, tags it publishes, endpoints, answers). docs/channels/ocds.md shows how.

    codelists   the closed codelists OCDS 1.1.5 uses, and the open ones we draw codes from
    serialize   deterministic JSON bytes: Decimal money with two decimals, RFC 3339 instants
    parties     parties, addresses, contact points, organisation references
    values      Value (net, optionally gross) and Period
    items       CPV classifications, items and lots (Lots extension)
    documents   documents, and the notice on the primary destination a notice follows
    amendments  one tender.amendments[] entry (what changed, why, which release it amends)
    tender      the tender section of a release, from a tender record
    release     ocids, release tags, the release envelope and the release package
    schema      the vendored OCDS 1.1.5 schemas, loaded offline, as a check before sending

Nothing here is a Channel: `tests/channels/test_contract.py` counts this package as a helper.
"""
