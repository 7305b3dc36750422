"""The bus's test certification authority, styled after the government CA (issue 17).

Agencies sign documents with certificates of "Cơ quan chứng thực số Chính phủ" (Ban Cơ yếu
Chính phủ; FIDELITY-2026 §2). The bus runs a CA of that style, marked TEST CA in its name: it
publishes its root and CRL, issues organisations signing certificates and keys, revokes them,
and publishes the other roots an admin added (a vendor's VNPT-CA test chain), which the document
systems trust signers under.
"""
