# intake_post.py PORT TOKEN CONTENT-TYPE BODY-FILE [METHOD] [PATH]:
# one request to the HTTP intake; prints the status code on the first
# line and the body after it. TOKEN "-" sends no Authorization header,
# CONTENT-TYPE "-" none; BODY-FILE "-" an empty body.
import http.client, sys
port, token, ctype, bodyf = sys.argv[1:5]
method = sys.argv[5] if len(sys.argv) > 5 else "POST"
path = sys.argv[6] if len(sys.argv) > 6 else "/v1/events"
body = b"" if bodyf == "-" else open(bodyf, "rb").read()
h = {}
if token != "-":
    h["Authorization"] = "Bearer " + token
if ctype != "-":
    h["Content-Type"] = ctype
c = http.client.HTTPConnection("127.0.0.1", int(port), timeout=10)
try:
    c.request(method, path, body=body if method != "GET" else None, headers=h)
    r = c.getresponse()
    print(r.status)
    sys.stdout.write(r.read().decode("utf-8", "replace"))
except (ConnectionError, http.client.HTTPException) as e:
    print("000")
    print(e)
