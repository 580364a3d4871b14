"""The web application: the operations dashboard, the JSON API, /metrics and /healthz.

Pages and API call `syndicator.ops.queries` to read and `syndicator.ops.actions` to act, like the CLI; the
acting person is the signed-in token's name. `create_app` in `syndicator.web.app` builds it.
"""
