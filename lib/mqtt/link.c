/* SPDX-License-Identifier: MIT */
#include "mqtt/link.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

/* OpenSSL's queued errors into err, after what. */
static void tls_error(const char *what, char *err, size_t errlen)
{
	unsigned long e = ERR_get_error();
	char text[256] = "";

	if (e)
		ERR_error_string_n(e, text, sizeof(text));
	ERR_clear_error();
	snprintf(err, errlen, "%s%s%s", what, text[0] ? ": " : "", text);
}

enum gf_err gf__mqtt_link_tls(const char *cafile, const char *cert, const char *key, SSL_CTX **out,
                              char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	char what[600];

	if (!ctx) {
		tls_error("cannot make a TLS context", err, errlen);
		return GF_EIO;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	/* A write may return after part of a record; the rest goes later
	 * from the same queue, which may have moved in memory. */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (SSL_CTX_load_verify_locations(ctx, cafile, NULL) != 1) {
		snprintf(what, sizeof(what), "cannot read the CA file %s", cafile);
		goto fail;
	}
	if ((cert || key) && (!cert || !key)) {
		snprintf(err, errlen, "a client certificate needs both cert and key");
		SSL_CTX_free(ctx);
		return GF_EIO;
	}
	if (cert && SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		snprintf(what, sizeof(what), "cannot read the certificate %s", cert);
		goto fail;
	}
	if (key && (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	            SSL_CTX_check_private_key(ctx) != 1)) {
		snprintf(what, sizeof(what), "cannot use the key %s with its certificate", key);
		goto fail;
	}
	*out = ctx;
	return GF_OK;
fail:
	tls_error(what, err, errlen);
	SSL_CTX_free(ctx);
	return GF_EIO;
}

/* The broker's certificate must name host: an address is checked against
 * its IP addresses, a name against its DNS names (and sent as SNI). */
static bool verify_name(SSL *ssl, const char *host)
{
	unsigned char addr[sizeof(struct in6_addr)];

	if (inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1)
		return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) == 1;
	return SSL_set_tlsext_host_name(ssl, host) == 1 && SSL_set1_host(ssl, host) == 1;
}

enum gf_err gf__mqtt_link_open(struct gf_mqtt_link *l, const char *host, int port, SSL_CTX *tls,
                               char *err, size_t errlen)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG};
	struct addrinfo *res = NULL, *ai;
	char service[16];
	int rc, one = 1, fd = -1;

	*l = (struct gf_mqtt_link){.fd = -1, .host = host};
	snprintf(service, sizeof(service), "%d", port);
	rc = getaddrinfo(host, service, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "cannot resolve %s: %s", host, gai_strerror(rc));
		return GF_EIO;
	}
	/* The first address that takes a connect; a refusal shows later
	 * (non-blocking), so a name with several addresses tries only the
	 * first that the kernel accepts to start with. */
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		            ai->ai_protocol);
		if (fd < 0)
			continue;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 || errno == EINPROGRESS)
			break;
		snprintf(err, errlen, "cannot connect to %s:%d: %s", host, port, strerror(errno));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		if (!ai && !err[0])
			snprintf(err, errlen, "cannot connect to %s:%d", host, port);
		return GF_EIO;
	}
	l->fd = fd;
	l->want_write = true;
	if (tls) {
		l->ssl = SSL_new(tls);
		if (!l->ssl || SSL_set_fd(l->ssl, fd) != 1 || !verify_name(l->ssl, host)) {
			tls_error("cannot start TLS", err, errlen);
			gf__mqtt_link_close(l);
			return GF_EIO;
		}
	}
	return GF_OK;
}

/* The TLS handshake's next step. */
static enum gf_err handshake(struct gf_mqtt_link *l, char *err, size_t errlen)
{
	int rc = SSL_connect(l->ssl);
	long verify;

	if (rc == 1) {
		l->tls_up = true;
		l->want_write = false;
		return GF_OK;
	}
	switch (SSL_get_error(l->ssl, rc)) {
	case SSL_ERROR_WANT_READ:
		l->want_write = false;
		return GF_EFULL;
	case SSL_ERROR_WANT_WRITE:
		l->want_write = true;
		return GF_EFULL;
	default:
		verify = SSL_get_verify_result(l->ssl);
		if (verify != X509_V_OK) {
			ERR_clear_error();
			snprintf(err, errlen, "TLS: the broker's certificate: %s",
			         X509_verify_cert_error_string(verify));
		} else {
			tls_error("TLS handshake", err, errlen);
			if (!strchr(err, ':'))
				snprintf(err, errlen,
				         "TLS handshake: the broker closed the connection");
		}
		return GF_EIO;
	}
}

enum gf_err gf__mqtt_link_step(struct gf_mqtt_link *l, char *err, size_t errlen)
{
	if (!l->tcp_up) {
		int soerr = 0;
		socklen_t len = sizeof(soerr);

		if (getsockopt(l->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0)
			soerr = errno;
		if (soerr == 0) {
			struct sockaddr_storage peer;
			socklen_t plen = sizeof(peer);

			/* Writable and no error, yet not connected: still going. */
			if (getpeername(l->fd, (struct sockaddr *)&peer, &plen) != 0)
				return GF_EFULL;
		} else {
			snprintf(err, errlen, "cannot connect to %s: %s", l->host, strerror(soerr));
			return GF_EIO;
		}
		l->tcp_up = true;
		l->want_write = false;
	}
	if (l->ssl && !l->tls_up)
		return handshake(l, err, errlen);
	return GF_OK;
}

ssize_t gf__mqtt_link_read(struct gf_mqtt_link *l, void *buf, size_t n, char *err, size_t errlen)
{
	ssize_t got;

	if (l->ssl) {
		size_t done = 0;
		int rc;

		/* set again below if this read still needs the socket writable:
		 * left set, the caller would wait for a writable socket forever */
		l->want_write = false;
		rc = SSL_read_ex(l->ssl, buf, n, &done);

		if (rc == 1)
			return (ssize_t)done;
		switch (SSL_get_error(l->ssl, rc)) {
		case SSL_ERROR_WANT_READ:
			return 0;
		case SSL_ERROR_WANT_WRITE:
			l->want_write = true;
			return 0;
		case SSL_ERROR_ZERO_RETURN:
			snprintf(err, errlen, "the broker closed the connection");
			return -1;
		default:
			if (ERR_peek_error() == 0) {
				snprintf(err, errlen, "the connection broke: %s",
				         errno ? strerror(errno) : "closed by the broker");
				return -1;
			}
			tls_error("TLS", err, errlen);
			return -1;
		}
	}
	got = recv(l->fd, buf, n, 0);
	if (got > 0)
		return got;
	if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return 0;
	if (got == 0)
		snprintf(err, errlen, "the broker closed the connection");
	else
		snprintf(err, errlen, "the connection broke: %s", strerror(errno));
	return -1;
}

ssize_t gf__mqtt_link_write(struct gf_mqtt_link *l, const void *buf, size_t n, char *err,
                            size_t errlen)
{
	ssize_t put;

	if (l->ssl) {
		size_t done = 0;
		int rc = SSL_write_ex(l->ssl, buf, n, &done);

		if (rc == 1) {
			l->want_write = false;
			return (ssize_t)done;
		}
		switch (SSL_get_error(l->ssl, rc)) {
		case SSL_ERROR_WANT_WRITE:
		case SSL_ERROR_WANT_READ:
			return 0;
		default:
			if (ERR_peek_error() == 0) {
				snprintf(err, errlen, "the connection broke: %s", strerror(errno));
				return -1;
			}
			tls_error("TLS", err, errlen);
			return -1;
		}
	}
	put = send(l->fd, buf, n, MSG_NOSIGNAL);
	if (put >= 0)
		return put;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return 0;
	snprintf(err, errlen, "the connection broke: %s", strerror(errno));
	return -1;
}

void gf__mqtt_link_close(struct gf_mqtt_link *l)
{
	if (l->ssl) {
		SSL_free(l->ssl);
		l->ssl = NULL;
	}
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	l->tcp_up = l->tls_up = l->want_write = false;
}
