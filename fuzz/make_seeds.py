#!/usr/bin/env python3
"""Writes the checked-in fuzz seeds (fuzz/seeds/<target>/) from the shared corpora, the shared
queries and the parser tests' inputs. Deterministic; re-run it to regenerate the seeds.
Usage: python3 fuzz/make_seeds.py [path/to/shared]  (default: ../shared next to the repository)"""
import csv, gzip, hashlib, io, json, os, re, sys, warnings

warnings.simplefilter("ignore")  # test literals hold regex escapes like `\\d`

here = os.path.dirname(os.path.abspath(__file__))
repo = os.path.dirname(here)
shared = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(repo), "shared")
data, queries = os.path.join(shared, "data"), os.path.join(shared, "queries")

def write(target, payload):
    if isinstance(payload, str):
        payload = payload.encode()
    out = os.path.join(here, "seeds", target)
    os.makedirs(out, exist_ok=True)
    name = hashlib.sha1(payload).hexdigest()[:16]
    with open(os.path.join(out, name), "wb") as f:
        f.write(payload)

def documents(corpus, count, step):
    with gzip.open(os.path.join(data, corpus + ".ndjson.gz"), "rt") as f:
        picked = []
        for i, line in enumerate(f):
            if i % step == 0:
                picked.append(json.loads(line))
            if len(picked) == count:
                return picked
    return picked

def literals(path):
    """String literals of a Rust test file (plain and raw), unescaped loosely."""
    text = open(os.path.join(repo, path), encoding="utf-8").read()
    found = re.findall(r'r#"(.*?)"#', text, re.S)
    found += [bytes(s, "utf-8").decode("unicode_escape", "ignore") for s in re.findall(r'"((?:[^"\\\n]|\\.)*)"', text)]
    return found

# --- filter_parser: filters from the parser's own tests, then filters over real values.
ops = ("=", "!=", ">", "<", " TO ", " IN ", "EXISTS", "NULL", "EMPTY", "CONTAINS", "STARTS WITH", "_geo", "NOT", "AND", "OR")
for s in literals("crates/engine/src/filter/tests.rs") + literals("crates/server/tests/filters.rs"):
    if 0 < len(s) < 400 and any(op in s for op in ops):
        write("filter_parser", s)
for movie in documents("movies", 12, 97):
    genre = movie.get("major_genre", "Drama")
    write("filter_parser", f'major_genre = "{genre}" AND release_year >= {movie.get("release_year", 1990)}')
    write("filter_parser", json.dumps([[f"director = '{movie.get('director', 'x')}'", f"mpaa_rating = {movie.get('mpaa_rating', 'R')}"], f"imdb_rating {movie.get('imdb_rating', 5)} TO 10"]))
for airport in documents("airports", 6, 211):
    g = airport["_geo"]
    write("filter_parser", f'_geoRadius({g["lat"]}, {g["lng"]}, 20000) AND state IN [{airport["state"]}, CA]')
    write("filter_parser", f'_geoBoundingBox([{g["lat"] + 1}, {g["lng"] + 1}], [{g["lat"] - 1}, {g["lng"] - 1}]) OR NOT city = "{airport["city"]}"')
    write("filter_parser", f'_geoPolygon([{g["lat"]}, {g["lng"]}], [{g["lat"] + 1}, {g["lng"]}], [{g["lat"]}, {g["lng"] + 1}])')

# --- document_payload: a selector byte (0 JSON, 2 NDJSON, 4 CSV `;`, 6 CSV `,`) then a body.
JSON, NDJSON, CSV_SEMI, CSV_COMMA = b"\x00", b"\x02", b"\x04", b"\x06"
for corpus, step in (("movies", 331), ("airports", 409), ("debian", 6007)):
    docs = documents(corpus, 4, step)
    write("document_payload", JSON + json.dumps(docs).encode())
    write("document_payload", JSON + json.dumps(docs[0]).encode())
    write("document_payload", NDJSON + "\n".join(json.dumps(d) for d in docs).encode())
    flat = [{k: v for k, v in d.items() if not isinstance(v, (dict, list))} for d in docs]
    header = list(dict.fromkeys(k for d in flat for k in d))
    for delimiter, selector in ((";", CSV_SEMI), (",", CSV_COMMA)):
        buf = io.StringIO()
        w = csv.writer(buf, delimiter=delimiter, lineterminator="\n")
        typed = [f"{k}:number" if all(isinstance(d.get(k), (int, float)) for d in flat if k in d) else k for k in header]
        w.writerow(typed)
        for d in flat:
            w.writerow(["" if d.get(k) is None else d.get(k) for k in header])
        write("document_payload", selector + buf.getvalue().encode())
for s in literals("crates/engine/src/documents/csv_payload.rs"):
    if "\n" in s and len(s) < 400:
        write("document_payload", CSV_COMMA + s.encode())
for s in literals("crates/engine/src/documents/json.rs"):
    if s.strip()[:1] in ("{", "[") and len(s) < 400:
        write("document_payload", JSON + s.encode())
        write("document_payload", NDJSON + s.encode())

# --- search_request: JSON bodies and query strings built on real queries and fields.
with open(os.path.join(queries, "movies.dev.jsonl")) as f:
    qs = [json.loads(line)["q"] for line in f][:400:40]
extras = [
    {"limit": 5, "offset": 10},
    {"page": 2, "hitsPerPage": 3, "filter": "genre = Drama", "facets": ["genre", "year"]},
    {"attributesToRetrieve": ["title"], "attributesToHighlight": ["*"], "highlightPreTag": "<b>", "highlightPostTag": "</b>"},
    {"attributesToCrop": ["title:5"], "cropLength": 3, "cropMarker": "~", "showMatchesPosition": True},
    {"matchingStrategy": "all", "sort": ["year:desc"], "showRankingScore": True, "rankingScoreThreshold": 0.5},
    {"attributesToSearchOn": ["title"], "showRankingScoreDetails": True, "searchCutoffMs": 100},
    {"filter": [["genre = Drama", "genre = Comedy"], "year 1990 TO 2000"], "distinct": "genre"},
    {"filter": "_geoRadius(45.1, 3.2, 1000)", "sort": ["_geoPoint(45.1, 3.2):asc"]},
    {"hybrid": {"embedder": "default", "semanticRatio": 0.5}, "vector": [0.1, 0.2], "retrieveVectors": False},
    {"locales": ["fra"], "facets": ["*"]},
]
for q, extra in zip(qs, extras):
    body = {"q": q, **extra}
    write("search_request", json.dumps(body))
    write("search_request", json.dumps({"queries": [{"indexUid": "movies", **body}, {"indexUid": "other", "q": q}]}))
    write("search_request", json.dumps({"federation": {"limit": 5}, "queries": [{"indexUid": "movies", "q": q, "federationOptions": {"weight": 2}}]}))
    params = []
    for k, v in body.items():
        v = ",".join(v) if isinstance(v, list) and all(isinstance(x, str) for x in v) else v
        params.append(f"{k}={v if isinstance(v, str) else json.dumps(v)}")
    write("search_request", "&".join(params).replace(" ", "+"))
