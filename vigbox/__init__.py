"""The composition root: the one package that joins the box's parts
(:mod:`appliance`, which never imports Flask) with the page (:mod:`web`).

The dependency rule reads down this list, never up it::

    vigbox      the ``vigbox`` command (main) and ``vigbox run`` (run)
    web         the page: Flask blueprints over the services it is given
    appliance   the box: store, audit log, recorder, wipe, HTTPS front
"""
