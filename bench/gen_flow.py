#!/usr/bin/env python3
"""Writes a flow of N screens (each: recognise, fill, click then the next),
for timing `einvreg check` on very large flows.

    python3 bench/gen_flow.py 20000 /tmp/big.toml
"""
import sys
n=int(sys.argv[1])
out=['''[flow]
name = "big"
portal = "production"
base_url = "https://einvoice1.gst.gov.in"

[inputs.gstin]
type = "gstin"

[inputs.note]
type = "text"
default = "x"
''']
for i in range(n):
    nxt = f"s{i+1}" if i+1<n else "s0"
    out.append(f'''
[[screens]]
id = "s{i}"
label = "Screen {i}"
recognise = {{ elements = [["#box{i}", "label:Box {i}"]] }}

  [[screens.steps]]
  label = "Box {i}"
  fill = ["#box{i}", "label:Box {i}"]
  value = "${{note}}"

  [[screens.steps]]
  label = "Next {i}"
  click = ["#next{i}", "text:Next"]
  then = "{nxt}"
''')
out.append('''
[[outcomes]]
id = "done"
kind = "registered"
text = "Done"
''')
open(sys.argv[2],'w').write(''.join(out))
