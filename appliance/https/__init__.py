"""The page's servers: nginx terminates TLS in front (:mod:`.front`), and
waitress (:mod:`.page_server`) serves the page behind it on a Unix socket.

tls          the box's TLS key and certificate
box_tls      where those files live, and installing a signed certificate
service_ca   the service's offline, name-constrained CA
names        the names the box answers to
front        nginx's configuration and its process
page_server  waitress, set so no byte of a request reaches a file
"""
