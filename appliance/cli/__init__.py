"""The ``vigbox`` commands of the box's parts, one module per command
group; :mod:`.main` builds the parser, and :mod:`vigbox.main` adds
``vigbox run``.

files         seal, unseal, ls
intervention  set up the one intervention
record        record, recover
audit         audit, certificate, label
store         store (the LUKS2 volume), device-key
tls           tls (the box's certificate), ca (the service's CA)
wipe          wipe
prompt        asking for a passphrase
"""
