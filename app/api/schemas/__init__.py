"""The marshmallow schemas of the API: what it accepts (`requests`) and what it answers
(`answers`). The same classes parse requests, serialise answers and make the OpenAPI document
(`app.api.document`); a schema named `XSchema` is the document's component `X`."""
