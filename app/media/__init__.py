"""Pictures people upload: checking and re-encoding them (`images`) and keeping the files
(`storage`: a local folder, or S3-compatible object storage for several servers).

It knows nothing of spaces or accounts; app.spaces.photos decides what a picture belongs to.
"""
