/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: gf_seal_open (lib/anon/seal.c) on any bytes, as gf-sp
 * meets them on the network. The ring holds two RSA keys made for this
 * target only (below; they protect nothing), under kids "fuzz" and
 * "fuzz-b"; the seed corpus (tests/fuzz/corpus/seal_open/) has JWEs sealed
 * to them by gf-seal and by python3-jwcrypto, so that mutations reach the
 * key wrap and the tag.
 *
 * gf_seal_open must never crash or leak, must say why it refuses in a short
 * printable message and leave its outputs untouched, must fill info with a
 * printable kid and cty only; what it opens ends in a NUL and passes the
 * broker's form check (gf_jwe_check_compact): nothing gf-sp accepts could
 * have been refused at the broker.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "anon/seal.h"
#include "payload/jwe.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Keys for this fuzz target only. */
static const char key_a[] = "-----BEGIN PRIVATE KEY-----\n"
                            "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCUSAghLuVeEO8T\n"
                            "6JEv341itqBZJcGb3r9OPj2oev4Jzu5XAFjLDcKoTkwr4eVtknUkovHHSCYdeCAH\n"
                            "+8FQUyYH9F2cEJECHiepa0DaYV7WGdRPNCA9S0hiy1MW8+57ASxAVpsMEcGcd/VW\n"
                            "RpZXDp0UeHlqPgAW0gTzJZAn8jWe3Gd45pQWk7n2AFB/ZW+MPEEE7pgtY/YncH95\n"
                            "3h3g0BngBsNAkcXSZ+n19UJfIX0GnDeSCNsdH5MtYnkIW6AX+3mwy2msL0QiGSRt\n"
                            "uT6ZH9inow2vLE+bgwMNap3uplNKkXq0PQ7tSVQbgcX/bV75oPQBfvBDP8xnyvUc\n"
                            "m7nA+84zAgMBAAECggEAKnnl5keOSd909RGCgaG62SOylEb2CqYIzCuVMw2kdv/R\n"
                            "k5eUV/ploBvpwwpPVA+HwgpxUyJOVNPD7TWHf3CKLO4p4Jp4R5CG0QfZyJTq+07j\n"
                            "3Bp0/8nwfuh6sVEIKDFCUV3dxVvSx/UvENtglqing6UtNqtzEBZyd4pznJXMGWje\n"
                            "9EJLMAcAfZqoZgia38/8XevKvgsTY732yfUbZa1uKd96VVd7LQ6gfJJsZwKIw2fl\n"
                            "yJqLyIjSsiolmyYDDkqGKJf+nKbPsPnJThukG/0wTsIxoeRjNFrGO/TdDExHefIx\n"
                            "lE0j0jcifmk9VXVMmztmkgRZQN8XGMpJwTw7O0/XEQKBgQDMcDcPlwdcKul1LOs8\n"
                            "b59EpXfEUIFZp679g6xAs+iDAnLc0KA2AMEjpsPZE5BN0Rv/C62JPx0i2Vc0krd9\n"
                            "Qx5KsWsb+kopnNqCVSBubdmXu6uGdIM+4AVkNfWHHjksRZBe5pJqpEVd3F9DdUfA\n"
                            "0/HYmqWjZWe3Efv7zK1KML+lowKBgQC5rfsTo+ufQmzCGW4ZR27U3rclw6yc2yeh\n"
                            "Ci4b8is769pbFYtu01aWDEf8iI5bpLx/SkOdXrh3QXQA8wSaVdycjmzTWTnv0k2p\n"
                            "zw6yDTdRX+U5Gx6YRflOip2makzS73asUgKYBXnL8IaHRolhL5qyPzrWLHkIR7XO\n"
                            "vVQNs8weMQKBgQCNwNlM5AnkbJTH/Md3dmZW8OzkoHWwNsbtXdmYW6bDAHWoirgr\n"
                            "+cXx9HYkFJ6gdngVFoHTgoGvYkhHWdwE7P8aB38fPSMjS3FvoZsFNwIDZct/RVaj\n"
                            "yC202H1QnTJDclCynOm1LAY1GNKtMar5F3zAFir36x5JIB068SbPJJIeRQKBgCNX\n"
                            "ZCS23JAxmnXPVU9mc0f9JCsB9Ybdh8t1HpWfIG+FUshnb2SmwSJKMCF29HGpB1/L\n"
                            "CNeZQc8hHC1aFBQ0J4t86GXJ4+crxjB+ArQNI+xPLlgSO16MYwl6BMu6C+lSPupJ\n"
                            "qci5shcJLvHskRV4dB9dPZuqV1cmHwq8qpT5Fe7hAoGAaRuOcOVYKR3OtDQ0uKxt\n"
                            "MMpoKgE2uREirA0yIqgFHhxkgrEkrTPSrIKOU5gXybNP1uT4JXpuzKgB7Y4rqGY/\n"
                            "8bxHfawhdRiWS96Dfp883261c6C1dtewpWlKRaWo+9w+aqp5MAiwsRjbmSTXPdmu\n"
                            "Ib8eBPW9SL+x2oCdAnwKKgE=\n"
                            "-----END PRIVATE KEY-----\n";

static const char key_b[] = "-----BEGIN PRIVATE KEY-----\n"
                            "MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQCnBKdU0rtQkrQu\n"
                            "nsqnAOghqHgA9bIbeqR3KpHys4fvsD2DhSRrxFMRUhwSAcEo6rkj/Qno+rMLTiJu\n"
                            "bWhQuu+vDo2HkcYljBSzS0duBVbYhpKdMq77GHzSGytxWt3mSwTfW2p6xbhjQu+J\n"
                            "KLfzuDJrcraVDb5QMgZAYMQOL2wqv/Mued6HkIvVePEsAm6tgjDu+0i/nVBtgJ7E\n"
                            "kcgXBOilHBGGnkwObO88kM1ysGbkKFqFHz3zQBoQvamcE+XaH03UFi96obc8+e8L\n"
                            "dvV7W45AWBePkrvn0MTlevN65j9EmrLVm4Z42/QBgS12kVPLxJjPCzokxoB0OGPW\n"
                            "gRNBcVqHAgMBAAECggEADAP629CF9vp5lFRf2kWSQwBL6IRvNKiNQMt4ZisB+mhF\n"
                            "90/H+n7McRW5/OumZKtaTXCssAJVM4OCrkoYXp0hlYj+UpoAqikv62QyNoPo0blW\n"
                            "E+bBDZcfPRME/D81cUDFZXeTVf4ie/WlUPXzzJ4G9pGb+WYx4l1u815izG3J94Xr\n"
                            "fHReK7tmYHYsMHy+czWD3tsdSf680axoBMaU+cpoYsjf+DpE3vIZ8/Afds5qFNIF\n"
                            "yhpF81qnrdPd8KomEyI1hj19Fhh5z5/vwwlEgynqENdEolQzlNifEtNIVaM/Skco\n"
                            "MfaoEcIktwqUVLeqm6SK5wGa/ynUEaEq9+/+sObpwQKBgQDhKq/+5CE/UzgMerQT\n"
                            "fgORh+a8idJW7ra9pbnTWoYWITYTks+qX0L+rViztYND0vkQ2FRX6YbjK6jjJnvd\n"
                            "/JayO/pinSNJsQxFs9UE8kqtQtInwPEo5gMkrNm7WKdjmws/7x/+Rho9z1yuvyIQ\n"
                            "d7orcpgEQN9YwprTq29fB3W+RwKBgQC944tTdPrmHNoHbw8Db36HIUYKU5Bqp4tN\n"
                            "D8CvbKY7buYIUUZp8i+Ctwz8NuXn4UfCtrLFFP5OIoGgKQx79FvputuYQZPTbc6w\n"
                            "/ZbCyPx4DE0I/t1XeiZjI+oRV9T7vcVJFdZcD0VyMDCjIi6fiNO61wPygvKSaEG9\n"
                            "+In7fMxhwQKBgQCBwb7QbZj3TDbFgkSZ4wmdaSq/xdCwBjrLCWEP+l/BCvyFxRnl\n"
                            "PaZ262Btl5GAmWism23nh40TBsr5s+i34WLabZP6FkIKqnu/A0Yj5pjARfyjqh2P\n"
                            "ixWOogmLXCiCTwvpmRzfxHhE3GW10jGIOebQOOZ/tP7AwMzGZEn3Am6I6wKBgA+d\n"
                            "/UF554CxcsUVvzhbHR7j/6ytvrzm1rAZ0ZEb8HgG4OhiNtZT0tB/WZQMt8/gWVSM\n"
                            "ThujZF7su5h+h8ZSDJUmhxT4n73N1Cf+Uz3l5c3BxTwuKeod47ZXp9KRVLT3oJgo\n"
                            "MZ8UqnN/vyBLmWYJjNBbCroRRv3/kRicrkx+sRiBAoGBAL4ttFT41QTyOdG4KkPg\n"
                            "q15Aq/yeX7sFlCmnKjrjdWpRIFqVHb+H0pZUNfWwFx9hLGaZD6fVLapULvu64RO8\n"
                            "P1enYCqCHw0YBmT8nrIMVMBfnb/5rPmofQCmwQccd96l7x+QDkXPWGQ9s10mdaXG\n"
                            "MgiWnjdqzmHjisyGuYCO13vm\n"
                            "-----END PRIVATE KEY-----\n";

static struct gf_seal_ring *ring;

static void add(const char *pem, const char *kid)
{
	char path[] = "/tmp/gf-seal-open-fuzz-XXXXXX", err[256];
	int fd = mkstemp(path); /* mode 0600 */
	size_t n = strlen(pem);

	if (fd < 0 || write(fd, pem, n) != (ssize_t)n || close(fd) != 0 ||
	    gf_seal_ring_add(ring, path, kid, err, sizeof(err)) != GF_OK) {
		fprintf(stderr, "seal_open_fuzz: cannot add key %s: %s\n", kid, err);
		abort();
	}
	unlink(path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (gf_seal_ring_new(&ring) != GF_OK)
		abort();
	add(key_a, "fuzz");
	add(key_b, "fuzz-b");
	return 0;
}

static void check_text(const char *s, size_t size, int may_be_empty)
{
	size_t n = strnlen(s, size);

	if (n == size || (n == 0 && !may_be_empty))
		abort();
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gf_seal_info info;
	char err[256], kid[GF_JWE_KID_MAX + 1], jerr[256];
	void *plain = (void *)&info;
	size_t plen = 12345;
	enum gf_err rc;

	memset(err, 'x', sizeof(err));
	rc = gf_seal_open(ring, (const char *)data, size, &plain, &plen, &info, err, sizeof(err));
	check_text(info.kid, sizeof(info.kid), 1);
	check_text(info.cty, sizeof(info.cty), 1);
	if (rc != GF_OK) {
		if (rc != GF_EPARSE && rc != GF_ENOENT && rc != GF_EDENIED && rc != GF_ENOMEM)
			abort();
		if (plain != (void *)&info || plen != 12345)
			abort(); /* outputs untouched */
		check_text(err, sizeof(err), 0);
		if (rc != GF_EPARSE && info.kid[0] == '\0')
			abort(); /* past the header, the kid is known */
		return 0;
	}
	if (((const char *)plain)[plen] != '\0' || info.kid[0] == '\0')
		abort();
	if (gf_jwe_check_compact((const char *)data, size, kid, sizeof(kid), jerr, sizeof(jerr)) !=
	        GF_OK ||
	    strcmp(kid, info.kid) != 0)
		abort();
	free(plain);
	return 0;
}
