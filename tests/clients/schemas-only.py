"""Writes the OpenAPI document without its paths: the dashboard's types need only the
schemas, and the file stays small. Usage: schemas-only.py IN OUT"""
import json
import sys

doc = json.load(open(sys.argv[1]))
doc["paths"] = {}
json.dump(doc, open(sys.argv[2], "w"), indent=1, sort_keys=True)
