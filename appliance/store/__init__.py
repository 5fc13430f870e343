"""The sealed store: a folder of age files named by random ids, and what
describes and protects them.

objects        the store itself: sealed objects created, read, listed
sealed_writer  writing one object, kept as a partial until it is whole
catalog        the SQLite catalog of non-identifying metadata
keys           the intervention's identity, sealed to its passphrase
passphrase     the passphrase rules, and generated passphrases
volume         the LUKS2 volume (or a plain folder in simulation)
otpkey         the volume's key from the Pi's OTP memory
damage         what the box notes and says about damaged sealed files
fsutil         fsync and atomic writes
"""
