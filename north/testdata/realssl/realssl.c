// realssl: OpenSSL 3 and zlib (Debian's libssl.a, libcrypto.a, libz.a,
// linked statically): digests, AES, HMAC, randomness, zlib and gzip files
// in the directory argv[1], and TLS 1.3 and 1.2 handshakes with a
// forked server over the loopback, with a fresh EC key and self-signed
// certificate. Prints only what does not depend on the random keys;
// compared line for line with a native run.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

static void fail(const char *what) {
	printf("FAIL %s\n", what);
	ERR_print_errors_fp(stdout);
	fflush(stdout);
	_exit(1);
}

static void hex(const char *tag, const unsigned char *b, size_t n) {
	printf("%s: ", tag);
	for (size_t i = 0; i < n; i++)
		printf("%02x", b[i]);
	printf("\n");
}

static void digest(const char *name, const void *data, size_t n) {
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len;
	if (!EVP_Digest(data, n, md, &len, EVP_get_digestbyname(name), 0))
		fail(name);
	hex(name, md, len);
}

static void crypto(void) {
	static unsigned char data[100000];
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (unsigned char)(i * 7 + i / 251);
	digest("SHA256", "abc", 3);
	digest("SHA512", data, sizeof data);
	digest("SHA3-256", data, sizeof data);
	digest("MD5", data, sizeof data);

	unsigned char key[32], iv[16], out[sizeof data + 32], back[sizeof data + 32];
	for (int i = 0; i < 32; i++)
		key[i] = (unsigned char)i;
	for (int i = 0; i < 16; i++)
		iv[i] = (unsigned char)(0xf0 + i);
	const char *ciphers[] = {"AES-256-CBC", "AES-128-CTR", "CHACHA20"};
	for (int c = 0; c < 3; c++) {
		EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
		int n, m, k, l;
		if (!EVP_EncryptInit_ex(ctx, EVP_get_cipherbyname(ciphers[c]), 0, key, iv) ||
		    !EVP_EncryptUpdate(ctx, out, &n, data, sizeof data) || !EVP_EncryptFinal_ex(ctx, out + n, &m))
			fail(ciphers[c]);
		EVP_CIPHER_CTX_reset(ctx);
		if (!EVP_DecryptInit_ex(ctx, EVP_get_cipherbyname(ciphers[c]), 0, key, iv) ||
		    !EVP_DecryptUpdate(ctx, back, &k, out, n + m) || !EVP_DecryptFinal_ex(ctx, back + k, &l))
			fail(ciphers[c]);
		EVP_CIPHER_CTX_free(ctx);
		printf("%s: %d bytes, round trip %s, ", ciphers[c], n + m,
		       k + l == (int)sizeof data && memcmp(back, data, sizeof data) == 0 ? "ok" : "BAD");
		digest("SHA256", out, n + m);
	}
	// AES-256-GCM with a tag.
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	unsigned char tag[16];
	int n, m;
	if (!EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), 0, key, iv) || !EVP_EncryptUpdate(ctx, 0, &n, (unsigned char *)"aad", 3) ||
	    !EVP_EncryptUpdate(ctx, out, &n, data, 1000) || !EVP_EncryptFinal_ex(ctx, out + n, &m) ||
	    !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, tag))
		fail("gcm");
	EVP_CIPHER_CTX_free(ctx);
	hex("AES-256-GCM tag", tag, 16);
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen;
	HMAC(EVP_sha256(), key, 32, data, sizeof data, mac, &maclen);
	hex("HMAC-SHA256", mac, maclen);
	unsigned char dk[32];
	if (!PKCS5_PBKDF2_HMAC("password", 8, (unsigned char *)"salt", 4, 1000, EVP_sha256(), 32, dk))
		fail("pbkdf2");
	hex("PBKDF2", dk, 32);
	unsigned char r1[32], r2[32];
	if (RAND_bytes(r1, 32) != 1 || RAND_bytes(r2, 32) != 1)
		fail("RAND_bytes");
	printf("random: %s\n", memcmp(r1, r2, 32) ? "differs" : "SAME");
}

static void zlib(const char *dir) {
	static unsigned char data[200000], comp[250000], back[200000];
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = "lorem ipsum dolor sit amet "[i % 27] ^ (unsigned char)(i / 5000);
	uLongf clen = sizeof comp, blen = sizeof back;
	if (compress2(comp, &clen, data, sizeof data, 9) != Z_OK || uncompress(back, &blen, comp, clen) != Z_OK)
		fail("zlib");
	printf("zlib %s: %lu -> %lu, round trip %s, crc32 %08lx adler32 %08lx\n", zlibVersion(), (unsigned long)sizeof data,
	       (unsigned long)clen, blen == sizeof data && memcmp(back, data, blen) == 0 ? "ok" : "BAD",
	       crc32(0, data, sizeof data), adler32(1, data, sizeof data));
	char path[600];
	snprintf(path, sizeof path, "%s/data.gz", dir);
	gzFile gz = gzopen(path, "wb6");
	if (!gz)
		fail("gzopen");
	for (int i = 0; i < 4; i++)
		gzwrite(gz, data, sizeof data);
	gzprintf(gz, "trailer %d\n", 42);
	gzclose(gz);
	FILE *f = fopen(path, "rb");
	fseek(f, 0, SEEK_END);
	printf("gzip file: %ld bytes\n", ftell(f));
	fclose(f);
	gz = gzopen(path, "rb");
	long total = 0;
	int k;
	while ((k = gzread(gz, back, sizeof back)) > 0)
		total += k;
	gzclose(gz);
	printf("gunzip: %ld bytes\n", total);
}

// tlsPair makes an EC key and a self-signed certificate for localhost.
static void tlsPair(EVP_PKEY **key, X509 **cert) {
	*key = EVP_PKEY_Q_keygen(0, 0, "EC", "P-256");
	if (!*key)
		fail("keygen");
	*cert = X509_new();
	ASN1_INTEGER_set(X509_get_serialNumber(*cert), 1);
	X509_gmtime_adj(X509_getm_notBefore(*cert), -3600);
	X509_gmtime_adj(X509_getm_notAfter(*cert), 86400);
	X509_set_pubkey(*cert, *key);
	X509_NAME *name = X509_get_subject_name(*cert);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (unsigned char *)"localhost", -1, -1, 0);
	X509_set_issuer_name(*cert, name);
	if (!X509_sign(*cert, *key, EVP_sha256()))
		fail("X509_sign");
}

// MSGLEN is the size of the client's message.
#define MSGLEN 300000

static void serve(int ls, SSL_CTX *ctx, int conns) {
	for (int i = 0; i < conns; i++) {
		int s = accept(ls, 0, 0);
		SSL *ssl = SSL_new(ctx);
		SSL_set_fd(ssl, s);
		if (SSL_accept(ssl) != 1)
			fail("SSL_accept");
		// The reply to MSGLEN bytes: their SHA-256 in hex.
		static char buf[MSGLEN];
		int got = 0, n;
		while (got < MSGLEN && (n = SSL_read(ssl, buf + got, MSGLEN - got)) > 0)
			got += n;
		unsigned char md[32];
		char reply[65];
		SHA256((unsigned char *)buf, got, md);
		for (int k = 0; k < 32; k++)
			sprintf(reply + 2 * k, "%02x", md[k]);
		if (SSL_write(ssl, reply, 64) != 64)
			fail("server SSL_write");
		while (SSL_read(ssl, buf, sizeof buf) > 0)
			;
		SSL_shutdown(ssl);
		SSL_free(ssl);
		close(s);
	}
}

static void tls(void) {
	EVP_PKEY *key;
	X509 *cert;
	tlsPair(&key, &cert);
	int ls = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof a;
	if (bind(ls, (struct sockaddr *)&a, sizeof a) || listen(ls, 4) || getsockname(ls, (struct sockaddr *)&a, &al))
		fail("listen");
	SSL_CTX *sctx = SSL_CTX_new(TLS_server_method());
	SSL_CTX_use_certificate(sctx, cert);
	SSL_CTX_use_PrivateKey(sctx, key);
	const char *versions[] = {"TLSv1.3", "TLSv1.2"};
	int vs[] = {TLS1_3_VERSION, TLS1_2_VERSION};
	pid_t pid = fork();
	if (pid == 0) {
		serve(ls, sctx, 2);
		_exit(0);
	}
	close(ls);
	for (int v = 0; v < 2; v++) {
		SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
		SSL_CTX_set_max_proto_version(cctx, vs[v]);
		X509_STORE_add_cert(SSL_CTX_get_cert_store(cctx), cert);
		SSL_CTX_set_verify(cctx, SSL_VERIFY_PEER, 0);
		int s = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(s, (struct sockaddr *)&a, sizeof a))
			fail("connect");
		SSL *ssl = SSL_new(cctx);
		SSL_set_fd(ssl, s);
		SSL_set_tlsext_host_name(ssl, "localhost");
		SSL_set1_host(ssl, "localhost");
		if (SSL_connect(ssl) != 1)
			fail("SSL_connect");
		X509 *peer = SSL_get1_peer_certificate(ssl);
		char cn[64] = "";
		X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn, sizeof cn);
		printf("%s: version %s cipher %s verify %ld peer %s\n", versions[v], SSL_get_version(ssl),
		       SSL_get_cipher_name(ssl), SSL_get_verify_result(ssl), cn);
		X509_free(peer);
		static char msg[MSGLEN];
		for (size_t i = 0; i < sizeof msg; i++)
			msg[i] = 'a' + i % 26;
		if (SSL_write(ssl, msg, sizeof msg) != (int)sizeof msg)
			fail("SSL_write");
		char reply[65] = "";
		int got = 0, n;
		while (got < 64 && (n = SSL_read(ssl, reply + got, 64 - got)) > 0)
			got += n;
		printf("%s: server read SHA256 %s\n", versions[v], reply);
		SSL_shutdown(ssl);
		SSL_free(ssl);
		close(s);
		SSL_CTX_free(cctx);
	}
	int st;
	waitpid(pid, &st, 0);
	printf("server: exit %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

int main(int argc, char **argv) {
	setvbuf(stdout, 0, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	printf("%s\n", OpenSSL_version(OPENSSL_VERSION));
	crypto();
	zlib(argc > 1 ? argv[1] : "/tmp");
	tls();
	printf("realssl: done\n");
	return 0;
}
