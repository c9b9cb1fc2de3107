// sockopt: socket options and socket ioctls of AF_INET/AF_INET6 TCP and
// UDP sockets and AF_UNIX stream, datagram and seqpacket sockets —
// getsockopt of every SOL_SOCKET option 1..80, the common IPPROTO_TCP,
// IPPROTO_IP and IPPROTO_IPV6 options, set-then-get round trips, bad
// lengths, levels and pointers, SO_TIMESTAMP* control messages,
// SO_RCVLOWAT, MSG_OOB on AF_UNIX streams and the FIONREAD, SIOCOUTQ,
// FIONBIO, SIOCATMARK and SIOCGIF* ioctls on lo — built with gcc -static
// and run natively and inside Cocoon (north/sockopt_vm_test.go): both runs
// must print the same lines. It prints only what is the same on every
// Linux 6.18 machine: no values from the host's memory size or sysctls it
// may have changed, no cookies, pids or times.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/errqueue.h>
#include <linux/filter.h>
#include <linux/net_tstamp.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77 // include/uapi/asm-generic/socket.h
#endif
#ifndef SO_DEVMEM_DONTNEED
#define SO_DEVMEM_DONTNEED 80
#endif
#ifndef IP_LOCAL_PORT_RANGE
#define IP_LOCAL_PORT_RANGE 51 // include/uapi/linux/in.h
#endif
#ifndef IP_PROTOCOL
#define IP_PROTOCOL 52
#endif
#ifndef IPV6_FLOWINFO
#define IPV6_FLOWINFO 11 // include/uapi/linux/in6.h
#define IPV6_FLOWLABEL_MGR 32
#define IPV6_FLOWINFO_SEND 33
#endif
#ifndef IPV6_ROUTER_ALERT_ISOLATE
#define IPV6_ROUTER_ALERT_ISOLATE 30
#endif
#ifndef IPV6_RECVERR_RFC4884
#define IPV6_RECVERR_RFC4884 31
#endif
#ifndef IPV6_MULTICAST_ALL
#define IPV6_MULTICAST_ALL 29
#endif
#ifndef IPV6_ADDR_PREFERENCES
#define IPV6_ADDR_PREFERENCES 72
#endif
#ifndef IPV6_PREFER_SRC_TMP
#define IPV6_PREFER_SRC_TMP 0x1
#define IPV6_PREFER_SRC_PUBLIC 0x2
#define IPV6_PREFER_SRC_COA 0x4
#define IPV6_PREFER_SRC_HOME 0x400
#endif
#ifndef IPV6_MINHOPCOUNT
#define IPV6_MINHOPCOUNT 73
#endif
#ifndef IPV6_TRANSPARENT
#define IPV6_TRANSPARENT 75
#endif
#ifndef IPV6_UNICAST_IF
#define IPV6_UNICAST_IF 76
#endif
#ifndef IPV6_RECVFRAGSIZE
#define IPV6_RECVFRAGSIZE 77
#endif
#ifndef IPV6_AUTOFLOWLABEL
#define IPV6_AUTOFLOWLABEL 70
#endif

static const char *errname(int e) {
	static char buf[32];
	switch (e) {
#define E(x) \
	case x: \
		return #x;
		E(EPERM) E(EACCES) E(ENOENT) E(EBADF) E(EAGAIN) E(EFAULT) E(EINVAL) E(EPIPE) E(ENOTCONN)
		E(EOPNOTSUPP) E(ECONNREFUSED) E(EISCONN) E(EMSGSIZE) E(ECONNRESET) E(ENOPROTOOPT) E(ENODATA)
		E(ERANGE) E(ENOTTY) E(ENODEV) E(EDOM) E(EBUSY) E(ENOTSOCK) E(EPROTONOSUPPORT) E(ENOMEM)
		E(EADDRNOTAVAIL) E(ENOBUFS) E(ENXIO) E(EEXIST) E(ESRCH)
#undef E
	}
	snprintf(buf, sizeof buf, "errno %d", e);
	return buf;
}

static void show(const char *what, long r) {
	if (r < 0)
		printf("%s: %s\n", what, errname(errno));
	else
		printf("%s: %ld\n", what, r);
}

struct kind {
	const char *name;
	int family, type;
};

static const struct kind kinds[] = {
	{"tcp4", AF_INET, SOCK_STREAM},   {"udp4", AF_INET, SOCK_DGRAM},	{"tcp6", AF_INET6, SOCK_STREAM},
	{"udp6", AF_INET6, SOCK_DGRAM},   {"unix-stream", AF_UNIX, SOCK_STREAM}, {"unix-dgram", AF_UNIX, SOCK_DGRAM},
	{"unix-seqpacket", AF_UNIX, SOCK_SEQPACKET},
};
#define NKINDS (int)(sizeof kinds / sizeof kinds[0])

static int isInet(const struct kind *k) { return k->family != AF_UNIX; }
static int pair(const struct kind *k, int sv[2]);
static void settle(int fd, int n);

// skipped says why a SOL_SOCKET option's value is not printed: it names a
// host's cookie, memory or process, or needs a capability.
static const char *skipped(int name) {
	switch (name) {
	case SO_COOKIE:
	case SO_NETNS_COOKIE:
		return "cookie";
	case SO_PEERCRED:
	case SO_PEERGROUPS:
	case SO_PEERPIDFD:
	case SO_PEERSEC:
		return "peer";
	}
	return NULL;
}

// getShow prints getsockopt's result: the length and the value as ints
// (or bytes if the length is not a multiple of 4), or the errno.
static void getShow(const char *what, int fd, int level, int name, socklen_t room) {
	unsigned char buf[512];
	memset(buf, 0xa5, sizeof buf);
	socklen_t len = room;
	if (getsockopt(fd, level, name, buf, &len) < 0) {
		printf("%s: %s (len %u)\n", what, errname(errno), len);
		return;
	}
	printf("%s: len %u", what, len);
	if (len % 4 == 0 && len <= 64) {
		for (socklen_t i = 0; i < len; i += 4) {
			int v;
			memcpy(&v, buf + i, 4);
			printf(" %d", v);
		}
	} else {
		printf(" [");
		for (socklen_t i = 0; i < len && i < 64; i++)
			printf("%02x", buf[i]);
		printf("]");
	}
	printf("\n");
}

// sweepSol prints getsockopt of SOL_SOCKET 1..80 on a fresh socket of k.
static void sweepSol(const struct kind *k) {
	int fd = socket(k->family, k->type, 0);
	if (fd < 0) {
		printf("%s: socket %s\n", k->name, errname(errno));
		return;
	}
	for (int name = 1; name <= 80; name++) {
		char what[64];
		if (name == SO_MEMINFO)
			continue; // the socket's memory in use, as the kernel counts it
		snprintf(what, sizeof what, "%s SOL_SOCKET %d", k->name, name);
		const char *why = skipped(name);
		if (why) {
			unsigned char buf[512];
			socklen_t len = sizeof buf;
			int r = getsockopt(fd, SOL_SOCKET, name, buf, &len);
			if (r == 0 && name == SO_PEERPIDFD)
				close(*(int *)buf);
			if (r < 0)
				printf("%s: %s\n", what, errname(errno));
			else
				printf("%s: ok (%s)\n", what, why);
			continue;
		}
		// The TCP buffers' defaults are tcp_rmem[1] and tcp_wmem[1],
		// sysctls a host may change (and Cocoon's differ). Urgent data
		// stays in line on Cocoon's TCP (netstack has none).
		if (isInet(k) && k->type == SOCK_STREAM && (name == SO_SNDBUF || name == SO_RCVBUF))
			continue;
		if (isInet(k) && name == SO_OOBINLINE)
			continue;
		getShow(what, fd, SOL_SOCKET, name, 64);
	}
	close(fd);
}

struct opt {
	const char *name;
	int level, opt;
};

static const struct opt tcpOpts[] = {
	{"TCP_NODELAY", IPPROTO_TCP, TCP_NODELAY},
	{"TCP_MAXSEG", IPPROTO_TCP, TCP_MAXSEG},
	{"TCP_CORK", IPPROTO_TCP, TCP_CORK},
	{"TCP_KEEPIDLE", IPPROTO_TCP, TCP_KEEPIDLE},
	{"TCP_KEEPINTVL", IPPROTO_TCP, TCP_KEEPINTVL},
	{"TCP_KEEPCNT", IPPROTO_TCP, TCP_KEEPCNT},
	{"TCP_SYNCNT", IPPROTO_TCP, TCP_SYNCNT},
	{"TCP_LINGER2", IPPROTO_TCP, TCP_LINGER2},
	{"TCP_DEFER_ACCEPT", IPPROTO_TCP, TCP_DEFER_ACCEPT},
	{"TCP_WINDOW_CLAMP", IPPROTO_TCP, TCP_WINDOW_CLAMP},
	{"TCP_QUICKACK", IPPROTO_TCP, TCP_QUICKACK},
	{"TCP_USER_TIMEOUT", IPPROTO_TCP, TCP_USER_TIMEOUT},
	{"TCP_NOTSENT_LOWAT", IPPROTO_TCP, TCP_NOTSENT_LOWAT},
	{"TCP_FASTOPEN", IPPROTO_TCP, TCP_FASTOPEN},
	{"TCP_FASTOPEN_CONNECT", IPPROTO_TCP, TCP_FASTOPEN_CONNECT},
	{"TCP_THIN_LINEAR_TIMEOUTS", IPPROTO_TCP, TCP_THIN_LINEAR_TIMEOUTS},
	{"TCP_INQ", IPPROTO_TCP, TCP_INQ},
	{"TCP_TX_DELAY", IPPROTO_TCP, TCP_TX_DELAY},
	{"TCP_THIN_DUPACK", IPPROTO_TCP, TCP_THIN_DUPACK},
	{"TCP_REPAIR", IPPROTO_TCP, TCP_REPAIR},
	{"TCP_REPAIR_QUEUE", IPPROTO_TCP, TCP_REPAIR_QUEUE},
	{"TCP_QUEUE_SEQ", IPPROTO_TCP, TCP_QUEUE_SEQ},
	{"TCP_REPAIR_WINDOW", IPPROTO_TCP, TCP_REPAIR_WINDOW},
	{"TCP_SAVE_SYN", IPPROTO_TCP, TCP_SAVE_SYN},
	{"TCP_SAVED_SYN", IPPROTO_TCP, TCP_SAVED_SYN},
	{"TCP_ULP", IPPROTO_TCP, TCP_ULP},
	{"TCP_FASTOPEN_KEY", IPPROTO_TCP, TCP_FASTOPEN_KEY},
	{"TCP_FASTOPEN_NO_COOKIE", IPPROTO_TCP, TCP_FASTOPEN_NO_COOKIE},
	{"TCP_IS_MPTCP", IPPROTO_TCP, 43},
	{"TCP_RTO_MAX_MS", IPPROTO_TCP, 44},
	{"TCP_RTO_MIN_US", IPPROTO_TCP, 45},
};

static const struct opt ipOpts[] = {
	{"IP_TOS", IPPROTO_IP, IP_TOS},
	{"IP_TTL", IPPROTO_IP, IP_TTL},
	{"IP_HDRINCL", IPPROTO_IP, IP_HDRINCL},
	{"IP_OPTIONS", IPPROTO_IP, IP_OPTIONS},
	{"IP_RECVOPTS", IPPROTO_IP, IP_RECVOPTS},
	{"IP_PKTINFO", IPPROTO_IP, IP_PKTINFO},
	{"IP_MTU_DISCOVER", IPPROTO_IP, IP_MTU_DISCOVER},
	{"IP_RECVERR", IPPROTO_IP, IP_RECVERR},
	{"IP_RECVTTL", IPPROTO_IP, IP_RECVTTL},
	{"IP_RECVTOS", IPPROTO_IP, IP_RECVTOS},
	{"IP_MTU", IPPROTO_IP, IP_MTU},
	{"IP_FREEBIND", IPPROTO_IP, IP_FREEBIND},
	{"IP_MULTICAST_IF", IPPROTO_IP, IP_MULTICAST_IF},
	{"IP_MULTICAST_TTL", IPPROTO_IP, IP_MULTICAST_TTL},
	{"IP_MULTICAST_LOOP", IPPROTO_IP, IP_MULTICAST_LOOP},
	{"IP_MULTICAST_ALL", IPPROTO_IP, IP_MULTICAST_ALL},
	{"IP_TRANSPARENT", IPPROTO_IP, IP_TRANSPARENT},
	{"IP_BIND_ADDRESS_NO_PORT", IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT},
	{"IP_RECVORIGDSTADDR", IPPROTO_IP, IP_RECVORIGDSTADDR},
	{"IP_MINTTL", IPPROTO_IP, IP_MINTTL},
	{"IP_ROUTER_ALERT", IPPROTO_IP, IP_ROUTER_ALERT},
	{"IP_RETOPTS", IPPROTO_IP, IP_RETOPTS},
	{"IP_PKTOPTIONS", IPPROTO_IP, IP_PKTOPTIONS},
	{"IP_PASSSEC", IPPROTO_IP, IP_PASSSEC},
	{"IP_NODEFRAG", IPPROTO_IP, IP_NODEFRAG},
	{"IP_CHECKSUM", IPPROTO_IP, IP_CHECKSUM},
	{"IP_RECVFRAGSIZE", IPPROTO_IP, IP_RECVFRAGSIZE},
	{"IP_RECVERR_RFC4884", IPPROTO_IP, IP_RECVERR_RFC4884},
	{"IP_UNICAST_IF", IPPROTO_IP, IP_UNICAST_IF},
	{"IP_LOCAL_PORT_RANGE", IPPROTO_IP, IP_LOCAL_PORT_RANGE},
	{"IP_PROTOCOL", IPPROTO_IP, IP_PROTOCOL},
};

static const struct opt ip6Opts[] = {
	{"IPV6_V6ONLY", IPPROTO_IPV6, IPV6_V6ONLY},
	{"IPV6_UNICAST_HOPS", IPPROTO_IPV6, IPV6_UNICAST_HOPS},
	{"IPV6_MULTICAST_HOPS", IPPROTO_IPV6, IPV6_MULTICAST_HOPS},
	{"IPV6_MULTICAST_LOOP", IPPROTO_IPV6, IPV6_MULTICAST_LOOP},
	{"IPV6_MULTICAST_IF", IPPROTO_IPV6, IPV6_MULTICAST_IF},
	{"IPV6_RECVPKTINFO", IPPROTO_IPV6, IPV6_RECVPKTINFO},
	{"IPV6_RECVHOPLIMIT", IPPROTO_IPV6, IPV6_RECVHOPLIMIT},
	{"IPV6_RECVTCLASS", IPPROTO_IPV6, IPV6_RECVTCLASS},
	{"IPV6_TCLASS", IPPROTO_IPV6, IPV6_TCLASS},
	{"IPV6_RECVERR", IPPROTO_IPV6, IPV6_RECVERR},
	{"IPV6_MTU_DISCOVER", IPPROTO_IPV6, IPV6_MTU_DISCOVER},
	{"IPV6_MTU", IPPROTO_IPV6, IPV6_MTU},
	{"IPV6_FREEBIND", IPPROTO_IPV6, IPV6_FREEBIND},
	{"IPV6_RECVORIGDSTADDR", IPPROTO_IPV6, IPV6_RECVORIGDSTADDR},
	{"IPV6_2292PKTINFO", IPPROTO_IPV6, IPV6_2292PKTINFO},
	{"IPV6_2292HOPLIMIT", IPPROTO_IPV6, IPV6_2292HOPLIMIT},
	{"IPV6_ADDRFORM", IPPROTO_IPV6, IPV6_ADDRFORM},
	{"IPV6_2292HOPOPTS", IPPROTO_IPV6, IPV6_2292HOPOPTS},
	{"IPV6_2292DSTOPTS", IPPROTO_IPV6, IPV6_2292DSTOPTS},
	{"IPV6_2292RTHDR", IPPROTO_IPV6, IPV6_2292RTHDR},
	{"IPV6_2292PKTOPTIONS", IPPROTO_IPV6, IPV6_2292PKTOPTIONS},
	{"IPV6_FLOWINFO", IPPROTO_IPV6, IPV6_FLOWINFO},
	{"IPV6_ROUTER_ALERT", IPPROTO_IPV6, IPV6_ROUTER_ALERT},
	{"IPV6_MULTICAST_ALL", IPPROTO_IPV6, IPV6_MULTICAST_ALL},
	{"IPV6_ROUTER_ALERT_ISOLATE", IPPROTO_IPV6, IPV6_ROUTER_ALERT_ISOLATE},
	{"IPV6_RECVERR_RFC4884", IPPROTO_IPV6, IPV6_RECVERR_RFC4884},
	{"IPV6_FLOWINFO_SEND", IPPROTO_IPV6, IPV6_FLOWINFO_SEND},
	{"IPV6_RECVHOPOPTS", IPPROTO_IPV6, IPV6_RECVHOPOPTS},
	{"IPV6_HOPOPTS", IPPROTO_IPV6, IPV6_HOPOPTS},
	{"IPV6_RTHDRDSTOPTS", IPPROTO_IPV6, IPV6_RTHDRDSTOPTS},
	{"IPV6_RECVRTHDR", IPPROTO_IPV6, IPV6_RECVRTHDR},
	{"IPV6_RTHDR", IPPROTO_IPV6, IPV6_RTHDR},
	{"IPV6_RECVDSTOPTS", IPPROTO_IPV6, IPV6_RECVDSTOPTS},
	{"IPV6_DSTOPTS", IPPROTO_IPV6, IPV6_DSTOPTS},
	{"IPV6_RECVPATHMTU", IPPROTO_IPV6, IPV6_RECVPATHMTU},
	{"IPV6_PATHMTU", IPPROTO_IPV6, IPV6_PATHMTU},
	{"IPV6_DONTFRAG", IPPROTO_IPV6, IPV6_DONTFRAG},
	{"IPV6_AUTOFLOWLABEL", IPPROTO_IPV6, IPV6_AUTOFLOWLABEL},
	{"IPV6_ADDR_PREFERENCES", IPPROTO_IPV6, IPV6_ADDR_PREFERENCES},
	{"IPV6_MINHOPCOUNT", IPPROTO_IPV6, IPV6_MINHOPCOUNT},
	{"IPV6_TRANSPARENT", IPPROTO_IPV6, IPV6_TRANSPARENT},
	{"IPV6_UNICAST_IF", IPPROTO_IPV6, IPV6_UNICAST_IF},
	{"IPV6_RECVFRAGSIZE", IPPROTO_IPV6, IPV6_RECVFRAGSIZE},
};

static const struct opt udpOpts[] = {
	{"UDP_CORK", IPPROTO_UDP, UDP_CORK},
	{"UDP_ENCAP", IPPROTO_UDP, UDP_ENCAP},
	{"UDP_NO_CHECK6_TX", IPPROTO_UDP, UDP_NO_CHECK6_TX},
	{"UDP_NO_CHECK6_RX", IPPROTO_UDP, UDP_NO_CHECK6_RX},
	{"UDP_SEGMENT", IPPROTO_UDP, UDP_SEGMENT},
	{"UDP_GRO", IPPROTO_UDP, UDP_GRO},
	{"UDPLITE_SEND_CSCOV", IPPROTO_UDP, 10},
	{"UDPLITE_RECV_CSCOV", IPPROTO_UDP, 11},
	{"SOL_UDP 2", IPPROTO_UDP, 2},
};

#define N(a) (int)(sizeof a / sizeof a[0])

static void sweepOpts(const struct kind *k, const char *lvl, const struct opt *o, int n) {
	int fd = socket(k->family, k->type, 0);
	for (int i = 0; i < n; i++) {
		char what[96];
		snprintf(what, sizeof what, "%s %s %s", k->name, lvl, o[i].name);
		getShow(what, fd, o[i].level, o[i].opt, 64);
	}
	close(fd);
}

// roundTrip sets an int option to v and prints the result and what
// getsockopt returns after.
static void roundTrip(const struct kind *k, const char *name, int level, int opt, int v) {
	int fd = socket(k->family, k->type, 0);
	char what[128];
	snprintf(what, sizeof what, "%s set %s=%d", k->name, name, v);
	int r = setsockopt(fd, level, opt, &v, sizeof v);
	if (r < 0) {
		printf("%s: %s\n", what, errname(errno));
	} else {
		int got = 0;
		socklen_t len = sizeof got;
		if (getsockopt(fd, level, opt, &got, &len) < 0)
			printf("%s: ok, get %s\n", what, errname(errno));
		else
			printf("%s: ok, get %d (len %u)\n", what, got, len);
	}
	close(fd);
}

static void roundTrips(const struct kind *k) {
	static const struct {
		const char *name;
		int level, opt, v;
	} sets[] = {
		{"SO_DEBUG", SOL_SOCKET, SO_DEBUG, 1},
		{"SO_REUSEADDR", SOL_SOCKET, SO_REUSEADDR, 5},
		{"SO_REUSEPORT", SOL_SOCKET, SO_REUSEPORT, 1},
		{"SO_KEEPALIVE", SOL_SOCKET, SO_KEEPALIVE, 1},
		{"SO_DONTROUTE", SOL_SOCKET, SO_DONTROUTE, 1},
		{"SO_BROADCAST", SOL_SOCKET, SO_BROADCAST, 1},
		{"SO_OOBINLINE", SOL_SOCKET, SO_OOBINLINE, 1},
		{"SO_NO_CHECK", SOL_SOCKET, SO_NO_CHECK, 1},
		{"SO_PRIORITY", SOL_SOCKET, SO_PRIORITY, 3},
		{"SO_PRIORITY", SOL_SOCKET, SO_PRIORITY, 7},
		{"SO_SNDBUF", SOL_SOCKET, SO_SNDBUF, 100000},
		{"SO_SNDBUF", SOL_SOCKET, SO_SNDBUF, 0},
		{"SO_RCVBUF", SOL_SOCKET, SO_RCVBUF, 100000},
		{"SO_RCVBUF", SOL_SOCKET, SO_RCVBUF, 0},
		{"SO_RCVBUF", SOL_SOCKET, SO_RCVBUF, 1000},
		{"SO_SNDBUFFORCE", SOL_SOCKET, SO_SNDBUFFORCE, 50000},
		{"SO_RCVBUFFORCE", SOL_SOCKET, SO_RCVBUFFORCE, 50000},
		{"SO_RCVLOWAT", SOL_SOCKET, SO_RCVLOWAT, 10},
		{"SO_RCVLOWAT", SOL_SOCKET, SO_RCVLOWAT, 0},
		{"SO_SNDLOWAT", SOL_SOCKET, SO_SNDLOWAT, 10},
		{"SO_TIMESTAMP", SOL_SOCKET, SO_TIMESTAMP, 1},
		{"SO_TIMESTAMPNS", SOL_SOCKET, SO_TIMESTAMPNS, 1},
		{"SO_TIMESTAMPING", SOL_SOCKET, SO_TIMESTAMPING, SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE},
		{"SO_TIMESTAMPING", SOL_SOCKET, SO_TIMESTAMPING, 1 << 30},
		{"SO_PASSCRED", SOL_SOCKET, SO_PASSCRED, 1},
		{"SO_PASSSEC", SOL_SOCKET, SO_PASSSEC, 1},
		{"SO_MARK", SOL_SOCKET, SO_MARK, 9},
		{"SO_RXQ_OVFL", SOL_SOCKET, SO_RXQ_OVFL, 1},
		{"SO_WIFI_STATUS", SOL_SOCKET, SO_WIFI_STATUS, 1},
		{"SO_NOFCS", SOL_SOCKET, SO_NOFCS, 1},
		{"SO_SELECT_ERR_QUEUE", SOL_SOCKET, SO_SELECT_ERR_QUEUE, 1},
		{"SO_BUSY_POLL", SOL_SOCKET, SO_BUSY_POLL, 50},
		{"SO_INCOMING_CPU", SOL_SOCKET, SO_INCOMING_CPU, 0},
		{"SO_ZEROCOPY", SOL_SOCKET, SO_ZEROCOPY, 1},
		{"SO_TYPE", SOL_SOCKET, SO_TYPE, 1},
		{"SO_ERROR", SOL_SOCKET, SO_ERROR, 1},
		{"SO_ACCEPTCONN", SOL_SOCKET, SO_ACCEPTCONN, 1},
		{"SO_PROTOCOL", SOL_SOCKET, SO_PROTOCOL, 1},
		{"SO_DOMAIN", SOL_SOCKET, SO_DOMAIN, 1},
		{"SO_BSDCOMPAT", SOL_SOCKET, SO_BSDCOMPAT, 1},
		{"opt 99", SOL_SOCKET, 99, 1},
	};
	for (int i = 0; i < N(sets); i++)
		roundTrip(k, sets[i].name, sets[i].level, sets[i].opt, sets[i].v);
	if (!isInet(k))
		roundTrip(k, "SO_PEEK_OFF", SOL_SOCKET, SO_PEEK_OFF, 4);
	// A negative SO_SNDBUF is a huge unsigned one: clamped to twice
	// net.core.wmem_max, a sysctl (at least its default, 212992). A
	// negative SO_RCVLOWAT is INT_MAX, less on TCP (half tcp_rmem[2]
	// or the locked buffer).
	{
		int fd = socket(k->family, k->type, 0), v = -5, got = 0;
		socklen_t len = sizeof got;
		int r = setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof v);
		getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &got, &len);
		printf("%s set SO_SNDBUF=-5: %s, get at least 425984: %d\n", k->name, r < 0 ? errname(errno) : "ok",
		       got >= 425984);
		v = -3;
		r = setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &v, sizeof v);
		getsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &got, &len);
		printf("%s set SO_RCVLOWAT=-3: %s, get at least 65536: %d\n", k->name, r < 0 ? errname(errno) : "ok",
		       got >= 65536);
		close(fd);
	}
	if (k->type == SOCK_STREAM && isInet(k)) {
		static const struct {
			const char *name;
			int opt, v;
		} tcp[] = {
			{"TCP_NODELAY", TCP_NODELAY, 1}, {"TCP_CORK", TCP_CORK, 1}, {"TCP_KEEPIDLE", TCP_KEEPIDLE, 30},
			{"TCP_KEEPIDLE", TCP_KEEPIDLE, 0}, {"TCP_KEEPIDLE", TCP_KEEPIDLE, 40000}, {"TCP_KEEPINTVL", TCP_KEEPINTVL, 5},
			{"TCP_KEEPCNT", TCP_KEEPCNT, 3}, {"TCP_KEEPCNT", TCP_KEEPCNT, 200}, {"TCP_SYNCNT", TCP_SYNCNT, 3},
			{"TCP_SYNCNT", TCP_SYNCNT, 0}, {"TCP_SYNCNT", TCP_SYNCNT, 300}, {"TCP_LINGER2", TCP_LINGER2, 20},
			{"TCP_LINGER2", TCP_LINGER2, -1}, {"TCP_LINGER2", TCP_LINGER2, 1000}, {"TCP_DEFER_ACCEPT", TCP_DEFER_ACCEPT, 10},
			{"TCP_DEFER_ACCEPT", TCP_DEFER_ACCEPT, 0}, {"TCP_WINDOW_CLAMP", TCP_WINDOW_CLAMP, 5000},
			{"TCP_WINDOW_CLAMP", TCP_WINDOW_CLAMP, 10}, {"TCP_QUICKACK", TCP_QUICKACK, 0},
			{"TCP_USER_TIMEOUT", TCP_USER_TIMEOUT, 3000}, {"TCP_USER_TIMEOUT", TCP_USER_TIMEOUT, -1},
			{"TCP_MAXSEG", TCP_MAXSEG, 1000}, {"TCP_MAXSEG", TCP_MAXSEG, 10}, {"TCP_MAXSEG", TCP_MAXSEG, 70000},
			{"TCP_MAXSEG", TCP_MAXSEG, 0}, {"TCP_MAXSEG", TCP_MAXSEG, 87}, {"TCP_MAXSEG", TCP_MAXSEG, 88},
			{"TCP_MAXSEG", TCP_MAXSEG, 32767}, {"TCP_MAXSEG", TCP_MAXSEG, 32768}, {"TCP_MAXSEG", TCP_MAXSEG, -1},
			{"TCP_INQ", TCP_INQ, 1}, {"TCP_INQ", TCP_INQ, 2}, {"TCP_THIN_DUPACK", TCP_THIN_DUPACK, 1},
			{"TCP_THIN_DUPACK", TCP_THIN_DUPACK, 2}, {"TCP_THIN_LINEAR_TIMEOUTS", TCP_THIN_LINEAR_TIMEOUTS, 0},
			{"TCP_THIN_LINEAR_TIMEOUTS", TCP_THIN_LINEAR_TIMEOUTS, 2}, {"TCP_FASTOPEN", TCP_FASTOPEN, 5},
			{"TCP_FASTOPEN", TCP_FASTOPEN, -1}, {"TCP_FASTOPEN_CONNECT", TCP_FASTOPEN_CONNECT, 1},
			{"TCP_FASTOPEN_CONNECT", TCP_FASTOPEN_CONNECT, 2}, {"TCP_FASTOPEN_NO_COOKIE", TCP_FASTOPEN_NO_COOKIE, 0},
			{"TCP_FASTOPEN_NO_COOKIE", TCP_FASTOPEN_NO_COOKIE, 2}, {"TCP_SAVE_SYN", TCP_SAVE_SYN, 0},
			{"TCP_SAVE_SYN", TCP_SAVE_SYN, 3}, {"TCP_TX_DELAY", TCP_TX_DELAY, 0}, {"TCP_TIMESTAMP", TCP_TIMESTAMP, 5},
			{"TCP_REPAIR_QUEUE", TCP_REPAIR_QUEUE, 1}, {"TCP_QUEUE_SEQ", TCP_QUEUE_SEQ, 1},
			{"TCP_REPAIR_OPTIONS", TCP_REPAIR_OPTIONS, 1}, {"TCP_REPAIR_WINDOW", TCP_REPAIR_WINDOW, 1},
			{"TCP_RTO_MAX_MS", 44, 120000}, {"TCP_RTO_MAX_MS", 44, 500}, {"TCP_RTO_MAX_MS", 44, 200000},
			{"TCP_RTO_MIN_US", 45, 200000}, {"TCP_RTO_MIN_US", 45, 300000},
		};
		for (int i = 0; i < N(tcp); i++)
			roundTrip(k, tcp[i].name, IPPROTO_TCP, tcp[i].opt, tcp[i].v);
	}
	if (k->family == AF_INET) {
		static const struct {
			const char *name;
			int opt, v;
		} ip[] = {
			{"IP_TOS", IP_TOS, 0x10}, {"IP_TOS", IP_TOS, 0x1ff}, {"IP_TTL", IP_TTL, 5}, {"IP_TTL", IP_TTL, 0},
			{"IP_TTL", IP_TTL, 256}, {"IP_TTL", IP_TTL, -1}, {"IP_RECVERR", IP_RECVERR, 1},
			{"IP_MTU_DISCOVER", IP_MTU_DISCOVER, IP_PMTUDISC_DO},
			{"IP_MTU_DISCOVER", IP_MTU_DISCOVER, 9}, {"IP_MULTICAST_TTL", IP_MULTICAST_TTL, 7},
			{"IP_MULTICAST_TTL", IP_MULTICAST_TTL, 300}, {"IP_MULTICAST_LOOP", IP_MULTICAST_LOOP, 0},
		};
		for (int i = 0; i < N(ip); i++)
			roundTrip(k, ip[i].name, IPPROTO_IP, ip[i].opt, ip[i].v);
	}
	if (isInet(k)) {
		// On IPv4 and IPv6 sockets alike (ipv6_setsockopt hands SOL_IP
		// to ip_setsockopt).
		static const struct {
			const char *name;
			int opt, v;
		} ip[] = {
			{"IP_PKTINFO", IP_PKTINFO, 1}, {"IP_RECVTTL", IP_RECVTTL, 1}, {"IP_RECVTOS", IP_RECVTOS, 1},
			{"IP_RECVORIGDSTADDR", IP_RECVORIGDSTADDR, 1}, {"IP_PASSSEC", IP_PASSSEC, 1},
			{"IP_CHECKSUM", IP_CHECKSUM, 1}, {"IP_ROUTER_ALERT", IP_ROUTER_ALERT, 1}, {"IP_MINTTL", IP_MINTTL, 1},
			{"IP_MINTTL", IP_MINTTL, 256}, {"IP_RECVERR_RFC4884", IP_RECVERR_RFC4884, 2},
			{"IP_RECVERR_RFC4884", IP_RECVERR_RFC4884, 0}, {"IP_RECVFRAGSIZE", IP_RECVFRAGSIZE, 0},
			{"IP_MTU_DISCOVER", IP_MTU_DISCOVER, IP_PMTUDISC_PROBE}, {"IP_RECVERR", IP_RECVERR, 1},
			{"IP_UNICAST_IF", IP_UNICAST_IF, 0}, {"IP_UNICAST_IF 99", IP_UNICAST_IF, 99 << 24},
			{"IP_LOCAL_PORT_RANGE", IP_LOCAL_PORT_RANGE, 0},
			{"IP_LOCAL_PORT_RANGE hi<lo", IP_LOCAL_PORT_RANGE, 40000 | 30000 << 16},
			{"IP_MULTICAST_ALL", IP_MULTICAST_ALL, 1}, {"IP_MULTICAST_ALL", IP_MULTICAST_ALL, 2},
			{"IP_FREEBIND", IP_FREEBIND, 0}, {"IP_BIND_ADDRESS_NO_PORT", IP_BIND_ADDRESS_NO_PORT, 0},
		};
		for (int i = 0; i < N(ip); i++)
			roundTrip(k, ip[i].name, IPPROTO_IP, ip[i].opt, ip[i].v);
	}

	if (k->family == AF_INET6) {
		static const struct {
			const char *name;
			int opt, v;
		} ip6[] = {
			{"IPV6_V6ONLY", IPV6_V6ONLY, 1}, {"IPV6_UNICAST_HOPS", IPV6_UNICAST_HOPS, 9},
			{"IPV6_UNICAST_HOPS", IPV6_UNICAST_HOPS, -1}, {"IPV6_UNICAST_HOPS", IPV6_UNICAST_HOPS, 256},
			{"IPV6_TCLASS", IPV6_TCLASS, 0x20}, {"IPV6_TCLASS", IPV6_TCLASS, -1}, {"IPV6_TCLASS", IPV6_TCLASS, 256},
			{"IPV6_RECVERR", IPV6_RECVERR, 1},
			{"IPV6_MULTICAST_HOPS", IPV6_MULTICAST_HOPS, 3}, {"IPV6_MULTICAST_LOOP", IPV6_MULTICAST_LOOP, 0},
			{"IPV6_MTU_DISCOVER", IPV6_MTU_DISCOVER, IPV6_PMTUDISC_DO},
			{"IPV6_RECVPKTINFO", IPV6_RECVPKTINFO, 1}, {"IPV6_RECVHOPLIMIT", IPV6_RECVHOPLIMIT, 1},
			{"IPV6_RECVTCLASS", IPV6_RECVTCLASS, 1}, {"IPV6_RECVORIGDSTADDR", IPV6_RECVORIGDSTADDR, 1},
			{"IPV6_2292PKTINFO", IPV6_2292PKTINFO, 1}, {"IPV6_2292HOPLIMIT", IPV6_2292HOPLIMIT, 1},
			{"IPV6_MULTICAST_IF", IPV6_MULTICAST_IF, 1}, {"IPV6_MULTICAST_IF", IPV6_MULTICAST_IF, 99},
			{"IPV6_MULTICAST_ALL", IPV6_MULTICAST_ALL, 0}, {"IPV6_ROUTER_ALERT_ISOLATE", IPV6_ROUTER_ALERT_ISOLATE, 1},
			{"IPV6_ROUTER_ALERT", IPV6_ROUTER_ALERT, 1}, {"IPV6_MTU", IPV6_MTU, 1}, {"IPV6_MTU", IPV6_MTU, 0},
			{"IPV6_MINHOPCOUNT", IPV6_MINHOPCOUNT, 1}, {"IPV6_MINHOPCOUNT", IPV6_MINHOPCOUNT, 256},
			{"IPV6_ADDR_PREFERENCES", IPV6_ADDR_PREFERENCES, IPV6_PREFER_SRC_TMP},
			{"IPV6_ADDR_PREFERENCES", IPV6_ADDR_PREFERENCES, IPV6_PREFER_SRC_COA | IPV6_PREFER_SRC_PUBLIC},
			{"IPV6_ADDR_PREFERENCES", IPV6_ADDR_PREFERENCES, IPV6_PREFER_SRC_TMP | IPV6_PREFER_SRC_PUBLIC},
			{"IPV6_ADDR_PREFERENCES", IPV6_ADDR_PREFERENCES, IPV6_PREFER_SRC_COA | IPV6_PREFER_SRC_HOME},
			{"IPV6_UNICAST_IF", IPV6_UNICAST_IF, 0}, {"IPV6_UNICAST_IF", IPV6_UNICAST_IF, 99},
			{"IPV6_RECVERR_RFC4884", IPV6_RECVERR_RFC4884, 2}, {"IPV6_DONTFRAG", IPV6_DONTFRAG, 0},
			{"IPV6_FLOWINFO_SEND", IPV6_FLOWINFO_SEND, 0}, {"IPV6_JOIN_ANYCAST", IPV6_JOIN_ANYCAST, 1},
			{"IPV6_FLOWLABEL_MGR", IPV6_FLOWLABEL_MGR, 1}, {"IPV6_HOPOPTS", IPV6_HOPOPTS, 1},
		};

		for (int i = 0; i < N(ip6); i++)
			roundTrip(k, ip6[i].name, IPPROTO_IPV6, ip6[i].opt, ip6[i].v);
	}
}

// badArgs tries lengths, levels and pointers getsockopt and setsockopt
// refuse.
static void badArgs(const struct kind *k) {
	int fd = socket(k->family, k->type, 0);
	char what[96];
	int v = 1;
	socklen_t len;
	unsigned char buf[64];
#define TRY(label, call) \
	do { \
		snprintf(what, sizeof what, "%s %s", k->name, label); \
		show(what, call); \
	} while (0)
	TRY("set SO_KEEPALIVE len 2", setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &v, 2));
	TRY("set SO_KEEPALIVE len 0", setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &v, 0));
	TRY("set SO_KEEPALIVE len 8", setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, buf, 8));
	TRY("set SO_KEEPALIVE NULL", setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, NULL, 4));
	TRY("set SO_KEEPALIVE bad pointer", setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, (void *)8, 4));
	TRY("set SO_RCVTIMEO len 8", setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, buf, 8));
	TRY("set SO_LINGER len 4", setsockopt(fd, SOL_SOCKET, SO_LINGER, &v, 4));
	TRY("set level 999", setsockopt(fd, 999, 1, &v, sizeof v));
	TRY("set SOL_TCP on it", setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v));
	if (k->type != SOCK_DGRAM || !isInet(k))
		TRY("set SOL_UDP 1", setsockopt(fd, IPPROTO_UDP, 1, &v, sizeof v));
	TRY("set IPPROTO_IP TOS", setsockopt(fd, IPPROTO_IP, IP_TOS, &v, sizeof v));
	TRY("set IPPROTO_IPV6 TCLASS", setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &v, sizeof v));
	TRY("set len -1", setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &v, -1));
	len = 2;
	TRY("get SO_KEEPALIVE len 2", getsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, buf, &len));
	snprintf(what, sizeof what, "%s get SO_KEEPALIVE len 2 -> len", k->name);
	printf("%s %u\n", what, len);
	len = 0;
	TRY("get SO_TYPE len 0", getsockopt(fd, SOL_SOCKET, SO_TYPE, buf, &len));
	snprintf(what, sizeof what, "%s get SO_TYPE len 0 -> len", k->name);
	printf("%s %u\n", what, len);
	len = -1;
	TRY("get len -1", getsockopt(fd, SOL_SOCKET, SO_TYPE, buf, &len));
	len = 4;
	TRY("get bad pointer", getsockopt(fd, SOL_SOCKET, SO_TYPE, (void *)8, &len));
	TRY("get bad len pointer", getsockopt(fd, SOL_SOCKET, SO_TYPE, buf, (void *)8));
	len = 4;
	TRY("get level 999", getsockopt(fd, 999, 1, buf, &len));
	len = 4;
	TRY("get SOL_TCP NODELAY", getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, buf, &len));
	len = 4;
	TRY("get IPPROTO_IP TOS", getsockopt(fd, IPPROTO_IP, IP_TOS, buf, &len));
	len = 4;
	TRY("get IPPROTO_IPV6 TCLASS", getsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, buf, &len));
	len = 3;
	TRY("get SO_LINGER len 3", getsockopt(fd, SOL_SOCKET, SO_LINGER, buf, &len));
	len = 8;
	TRY("get SO_RCVTIMEO len 8", getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, buf, &len));
	snprintf(what, sizeof what, "%s get SO_RCVTIMEO len 8 -> len", k->name);
	printf("%s %u\n", what, len);
	close(fd);
#undef TRY
}

// extras tries the options whose value is not an int, or whose answer
// depends on what was set before: socket filters, SO_TXTIME,
// SO_BINDTODEVICE, short IP values, TCP_FASTOPEN_KEY, TCP_ULP.
static void extras(const struct kind *k) {
	char what[128];
	int fd = socket(k->family, k->type, 0), v;
	unsigned char buf[64];
	socklen_t len;
#define TRY(label, call) \
	do { \
		snprintf(what, sizeof what, "%s %s", k->name, label); \
		show(what, call); \
	} while (0)
	struct sock_filter insn = {0x06, 0, 0, 0xffff}; // ret #65535
	struct sock_fprog prog = {1, &insn}, none = {1, NULL}, empty = {0, &insn};
	TRY("SO_DETACH_FILTER", setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, &v, sizeof v));
	TRY("SO_ATTACH_FILTER len 4", setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, 4));
	TRY("SO_ATTACH_FILTER NULL", setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &none, sizeof none));
	TRY("SO_ATTACH_FILTER empty", setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &empty, sizeof empty));
	TRY("SO_ATTACH_REUSEPORT_CBPF len 4", setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, 4));
	TRY("SO_ATTACH_BPF len 8", setsockopt(fd, SOL_SOCKET, SO_ATTACH_BPF, buf, 8));
	TRY("SO_DETACH_REUSEPORT_BPF", setsockopt(fd, SOL_SOCKET, SO_DETACH_REUSEPORT_BPF, &v, sizeof v));
	v = 1;
	if (isInet(k)) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &v, sizeof v);
		TRY("SO_DETACH_REUSEPORT_BPF with SO_REUSEPORT",
		    setsockopt(fd, SOL_SOCKET, SO_DETACH_REUSEPORT_BPF, &v, sizeof v));
	}
	TRY("SO_CNX_ADVICE", setsockopt(fd, SOL_SOCKET, SO_CNX_ADVICE, &v, sizeof v));
	v = -1;
	TRY("SO_RESERVE_MEM -1", setsockopt(fd, SOL_SOCKET, SO_RESERVE_MEM, &v, sizeof v));
	v = 4096;
	// An internet socket may reserve memory under a memory cgroup.
	if (!isInet(k))
		TRY("SO_RESERVE_MEM 4096", setsockopt(fd, SOL_SOCKET, SO_RESERVE_MEM, &v, sizeof v));
	TRY("SO_DEVMEM_DONTNEED len 4", setsockopt(fd, SOL_SOCKET, SO_DEVMEM_DONTNEED, &v, 4));
	memset(buf, 0, sizeof buf);
	TRY("SO_DEVMEM_DONTNEED len 8", setsockopt(fd, SOL_SOCKET, SO_DEVMEM_DONTNEED, buf, 8));
	struct sock_txtime tt = {CLOCK_MONOTONIC, SOF_TXTIME_REPORT_ERRORS};
	TRY("SO_TXTIME len 4", setsockopt(fd, SOL_SOCKET, SO_TXTIME, &tt, 4));
	tt.flags = 8;
	TRY("SO_TXTIME bad flags", setsockopt(fd, SOL_SOCKET, SO_TXTIME, &tt, sizeof tt));
	tt.flags = SOF_TXTIME_REPORT_ERRORS;
	tt.clockid = CLOCK_BOOTTIME;
	TRY("SO_TXTIME CLOCK_BOOTTIME", setsockopt(fd, SOL_SOCKET, SO_TXTIME, &tt, sizeof tt));
	tt.clockid = CLOCK_MONOTONIC;
	TRY("SO_TXTIME", setsockopt(fd, SOL_SOCKET, SO_TXTIME, &tt, sizeof tt));
	snprintf(what, sizeof what, "%s SO_TXTIME get", k->name);
	getShow(what, fd, SOL_SOCKET, SO_TXTIME, 64);
	// Interfaces by name and by index.
	len = sizeof buf;
	TRY("get SO_BINDTODEVICE unbound", getsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, buf, &len));
	printf("%s SO_BINDTODEVICE unbound len %u\n", k->name, len);
	TRY("SO_BINDTODEVICE nosuch0", setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, "nosuch0", 8));
	TRY("SO_BINDTODEVICE lo", setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, "lo", 2));
	len = sizeof buf;
	memset(buf, 0, sizeof buf);
	snprintf(what, sizeof what, "%s get SO_BINDTODEVICE", k->name);
	if (getsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, buf, &len) < 0)
		printf("%s: %s\n", what, errname(errno));
	else
		printf("%s: len %u \"%s\"\n", what, len, buf);
	len = 2;
	TRY("get SO_BINDTODEVICE len 2", getsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, buf, &len));
	snprintf(what, sizeof what, "%s SO_BINDTOIFINDEX", k->name);
	getShow(what, fd, SOL_SOCKET, SO_BINDTOIFINDEX, 4);
	TRY("SO_BINDTODEVICE \"\"", setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, "", 0));
	v = 1;
	TRY("SO_BINDTOIFINDEX 1", setsockopt(fd, SOL_SOCKET, SO_BINDTOIFINDEX, &v, sizeof v));
	snprintf(what, sizeof what, "%s SO_BINDTOIFINDEX after", k->name);
	getShow(what, fd, SOL_SOCKET, SO_BINDTOIFINDEX, 4);
	v = -1;
	TRY("SO_BINDTOIFINDEX -1", setsockopt(fd, SOL_SOCKET, SO_BINDTOIFINDEX, &v, sizeof v));
	v = 0;
	TRY("SO_BINDTOIFINDEX 0", setsockopt(fd, SOL_SOCKET, SO_BINDTOIFINDEX, &v, sizeof v));
	if (isInet(k)) {
		// SOL_IP reads a short value as one byte, none as 0.
		unsigned char one = 1;
		TRY("IP_RECVTTL len 1", setsockopt(fd, IPPROTO_IP, IP_RECVTTL, &one, 1));
		snprintf(what, sizeof what, "%s IP_RECVTTL after len 1", k->name);
		getShow(what, fd, IPPROTO_IP, IP_RECVTTL, 4);
		snprintf(what, sizeof what, "%s IP_RECVTTL get len 1", k->name);
		getShow(what, fd, IPPROTO_IP, IP_RECVTTL, 1);
		TRY("IP_RECVTTL len 0", setsockopt(fd, IPPROTO_IP, IP_RECVTTL, &one, 0));
		snprintf(what, sizeof what, "%s IP_RECVTTL after len 0", k->name);
		getShow(what, fd, IPPROTO_IP, IP_RECVTTL, 4);
		unsigned char tos = 0x20;
		TRY("IP_TOS len 1", setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, 1));
		TRY("IP_TTL len 0", setsockopt(fd, IPPROTO_IP, IP_TTL, &tos, 0));
		TRY("IPV6 level len 1", setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, 1));
	}
	if (isInet(k) && k->type == SOCK_STREAM) {
		unsigned char key[32];
		for (int i = 0; i < 32; i++)
			key[i] = i;
		TRY("TCP_FASTOPEN_KEY len 8", setsockopt(fd, IPPROTO_TCP, TCP_FASTOPEN_KEY, key, 8));
		TRY("TCP_FASTOPEN_KEY len 16", setsockopt(fd, IPPROTO_TCP, TCP_FASTOPEN_KEY, key, 16));
		snprintf(what, sizeof what, "%s TCP_FASTOPEN_KEY get", k->name);
		getShow(what, fd, IPPROTO_TCP, TCP_FASTOPEN_KEY, 64);
		TRY("TCP_ULP nosuch", setsockopt(fd, IPPROTO_TCP, TCP_ULP, "nosuch", 6));
		TRY("TCP_ULP empty", setsockopt(fd, IPPROTO_TCP, TCP_ULP, "", 0));
		v = 100000;
		int l = socket(k->family, SOCK_STREAM, 0);
		listen(l, 5);
		TRY("listening TCP_FASTOPEN 100000", setsockopt(l, IPPROTO_TCP, TCP_FASTOPEN, &v, sizeof v));
		snprintf(what, sizeof what, "%s listening TCP_FASTOPEN get", k->name);
		getShow(what, l, IPPROTO_TCP, TCP_FASTOPEN, 4);
		v = 1;
		TRY("listening TCP_FASTOPEN_CONNECT", setsockopt(l, IPPROTO_TCP, TCP_FASTOPEN_CONNECT, &v, sizeof v));
		TRY("listening TCP_SAVE_SYN 0", setsockopt(l, IPPROTO_TCP, TCP_SAVE_SYN, &(int){0}, sizeof v));
		TRY("listening TCP_QUEUE_SEQ", setsockopt(l, IPPROTO_TCP, TCP_QUEUE_SEQ, &v, sizeof v));
		close(l);
	}
	close(fd);
#undef TRY
}

// printCmsgs prints the control messages of m, decoding those the IP
// options ask for.
static void printCmsgs(const char *what, long r, struct msghdr *m, int port) {
	if (r < 0) {
		printf("%s: %s\n", what, errname(errno));
		return;
	}
	printf("%s: %ld bytes, flags %#x:", what, r, m->msg_flags);
	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
		printf(" [%d/%d len %zu", c->cmsg_level, c->cmsg_type, (size_t)c->cmsg_len);
		unsigned char *d = CMSG_DATA(c);
		char a[INET6_ADDRSTRLEN];
		size_t have = c->cmsg_len - CMSG_LEN(0);
		if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO && have < 12) ||
		    (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type != IPV6_HOPLIMIT && c->cmsg_type != IPV6_TCLASS &&
		     c->cmsg_type != IPV6_2292HOPLIMIT &&
		     have < 20)) {
			// Cut short: what is there is not all the kernel's.
		} else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;
			memcpy(&pi, d, sizeof pi);
			printf(" ifindex %d spec_dst %s", pi.ipi_ifindex, inet_ntoa(pi.ipi_spec_dst));
			printf(" addr %s", inet_ntoa(pi.ipi_addr));
		} else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_ORIGDSTADDR) {
			struct sockaddr_in sa;
			memcpy(&sa, d, sizeof sa);
			printf(" family %d %s port ok %d", sa.sin_family, inet_ntoa(sa.sin_addr), ntohs(sa.sin_port) == port);
		} else if (c->cmsg_level == IPPROTO_IPV6 &&
			   (c->cmsg_type == IPV6_PKTINFO || c->cmsg_type == IPV6_2292PKTINFO)) {
			struct in6_pktinfo pi;
			memcpy(&pi, d, sizeof pi);
			printf(" %s ifindex %d", inet_ntop(AF_INET6, &pi.ipi6_addr, a, sizeof a), pi.ipi6_ifindex);
		} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_ORIGDSTADDR) {
			struct sockaddr_in6 sa;
			memcpy(&sa, d, sizeof sa);
			printf(" family %d %s port ok %d", sa.sin6_family, inet_ntop(AF_INET6, &sa.sin6_addr, a, sizeof a),
			       ntohs(sa.sin6_port) == port);
		} else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TOS) {
			printf(" tos %d", d[0]);
		} else if (c->cmsg_len == CMSG_LEN(sizeof(int))) {
			int v;
			memcpy(&v, d, sizeof v);
			printf(" %d", v);
		}
		printf("]");
	}
	printf("\n");
}

static int localPort(int fd) {
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	getsockname(fd, (void *)&ss, &sl);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port); // sin_port and sin6_port are at the same place
}

// ipCmsgs receives datagrams on a UDP socket of k with the IP header's
// facts asked for, one option at a time and all together, and with too
// little room for them.
static void ipCmsgs(const struct kind *k) {
	static const struct {
		const char *name;
		int level, opt;
	} v4[] = {
		{"IP_PKTINFO", IPPROTO_IP, IP_PKTINFO},
		{"IP_RECVTTL", IPPROTO_IP, IP_RECVTTL},
		{"IP_RECVTOS", IPPROTO_IP, IP_RECVTOS},
		{"IP_RECVORIGDSTADDR", IPPROTO_IP, IP_RECVORIGDSTADDR},
		{"all", -1, 0},
		{"all, 20-byte control", -2, 0},
	}, v6[] = {
		{"IPV6_RECVPKTINFO", IPPROTO_IPV6, IPV6_RECVPKTINFO},
		{"IPV6_RECVHOPLIMIT", IPPROTO_IPV6, IPV6_RECVHOPLIMIT},
		{"IPV6_RECVTCLASS", IPPROTO_IPV6, IPV6_RECVTCLASS},
		{"IPV6_RECVORIGDSTADDR", IPPROTO_IPV6, IPV6_RECVORIGDSTADDR},
		{"IPV6_2292PKTINFO", IPPROTO_IPV6, IPV6_2292PKTINFO},
		{"IPV6_2292HOPLIMIT", IPPROTO_IPV6, IPV6_2292HOPLIMIT},
		{"all", -1, 0},
		{"all, 20-byte control", -2, 0},
	};
	int n = k->family == AF_INET ? N(v4) : N(v6);
	for (int i = 0; i < n; i++) {
		const char *name = k->family == AF_INET ? v4[i].name : v6[i].name;
		int level = k->family == AF_INET ? v4[i].level : v6[i].level;
		int sv[2], on = 1;
		if (pair(k, sv) < 0) {
			printf("%s pair: %s\n", k->name, errname(errno));
			return;
		}
		if (level >= 0) {
			int opt = k->family == AF_INET ? v4[i].opt : v6[i].opt;
			setsockopt(sv[1], level, opt, &on, sizeof on);
		} else {
			for (int j = 0; j < n - 2; j++)
				if (k->family == AF_INET)
					setsockopt(sv[1], v4[j].level, v4[j].opt, &on, sizeof on);
				else if (v6[j].opt != IPV6_2292PKTINFO && v6[j].opt != IPV6_2292HOPLIMIT)
					setsockopt(sv[1], v6[j].level, v6[j].opt, &on, sizeof on);
		}
		send(sv[0], "cmsg", 4, 0);
		union {
			char b[512];
			struct cmsghdr align;
		} c;
		char data[16], what[128];
		struct iovec iov = {data, sizeof data};
		struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.b,
				   .msg_controllen = level == -2 ? 20 : sizeof c.b};
		snprintf(what, sizeof what, "%s %s recvmsg", k->name, name);
		printCmsgs(what, recvmsg(sv[1], &m, 0), &m, localPort(sv[1]));
		close(sv[0]);
		close(sv[1]);
	}
	// IP_PKTINFO on an IPv6 socket: the IPv4-mapped peer's datagrams.
	if (k->family == AF_INET6) {
		int s6 = socket(AF_INET6, SOCK_DGRAM, 0), s4 = socket(AF_INET, SOCK_DGRAM, 0), on = 1;
		struct sockaddr_in6 a = {.sin6_family = AF_INET6};
		inet_pton(AF_INET6, "::ffff:127.0.0.1", &a.sin6_addr);
		bind(s6, (void *)&a, sizeof a);
		socklen_t al = sizeof a;
		getsockname(s6, (void *)&a, &al);
		setsockopt(s6, IPPROTO_IP, IP_PKTINFO, &on, sizeof on);
		setsockopt(s6, IPPROTO_IP, IP_RECVTTL, &on, sizeof on);
		setsockopt(s6, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof on);
		setsockopt(s6, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &on, sizeof on);
		struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = a.sin6_port};
		to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sendto(s4, "mapped", 6, 0, (void *)&to, sizeof to);
		union {
			char b[512];
			struct cmsghdr align;
		} c;
		char data[16];
		struct iovec iov = {data, sizeof data};
		struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.b, .msg_controllen = sizeof c.b};
		struct sockaddr_in6 from;
		m.msg_name = &from;
		m.msg_namelen = sizeof from;
		printCmsgs("udp6 mapped IP_PKTINFO+IP_RECVTTL+IPV6_RECVPKTINFO recvmsg", recvmsg(s6, &m, 0), &m, 0);
		// The reply from the address it came to, as IPV6_PKTINFO names
		// it: IPv4-mapped (else EINVAL), the host's (else ENETUNREACH).
		static const char *srcs[] = {"::ffff:127.0.0.1", "::1", "::ffff:10.9.9.9"};
		for (int i = 0; i < 3; i++) {
			struct in6_pktinfo pi = {.ipi6_ifindex = 0};
			inet_pton(AF_INET6, srcs[i], &pi.ipi6_addr);
			union {
				char b[CMSG_SPACE(sizeof pi)];
				struct cmsghdr align;
			} u;
			memset(&u, 0, sizeof u);
			struct iovec iv = {"r", 1};
			struct msghdr sm = {.msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iv, .msg_iovlen = 1,
					    .msg_control = u.b, .msg_controllen = sizeof u.b};
			struct cmsghdr *h = CMSG_FIRSTHDR(&sm);
			h->cmsg_level = IPPROTO_IPV6;
			h->cmsg_type = IPV6_PKTINFO;
			h->cmsg_len = CMSG_LEN(sizeof pi);
			memcpy(CMSG_DATA(h), &pi, sizeof pi);
			char what[96];
			snprintf(what, sizeof what, "udp6 mapped reply IPV6_PKTINFO %s", srcs[i]);
			show(what, sendmsg(s6, &sm, 0));
		}
		struct timeval tv = {2, 0};
		setsockopt(s4, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		show("udp6 mapped reply received", recv(s4, data, sizeof data, 0));

		close(s4);
		close(s6);
	}
}

// tcpInq shows TCP_INQ's control message: what is left to read after a
// receive, and 1 after the FIN with nothing left; and IP_PKTOPTIONS.
static void tcpInq(const struct kind *k) {
	int sv[2], on = 1;
	char what[128];
	if (pair(k, sv) < 0)
		return;
	setsockopt(sv[1], IPPROTO_TCP, TCP_INQ, &on, sizeof on);
	send(sv[0], "0123456789", 10, 0);
	settle(sv[1], 10);
	union {
		char b[256];
		struct cmsghdr align;
	} c;
	char data[16];
	for (int i = 0; i < 3; i++) {
		if (i == 2) {
			shutdown(sv[0], SHUT_WR);
			struct pollfd p = {sv[1], POLLRDHUP, 0};
			poll(&p, 1, 5000);
		}
		struct iovec iov = {data, i == 0 ? 4 : sizeof data};
		struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.b, .msg_controllen = sizeof c.b};
		snprintf(what, sizeof what, "%s TCP_INQ recvmsg %d", k->name, i);
		printCmsgs(what, recvmsg(sv[1], &m, i == 1 ? MSG_DONTWAIT : 0), &m, 0);
	}
	if (k->family == AF_INET) {
		setsockopt(sv[1], IPPROTO_IP, IP_PKTINFO, &on, sizeof on);
		setsockopt(sv[1], IPPROTO_IP, IP_RECVTTL, &on, sizeof on);
		socklen_t len = sizeof c.b;
		struct msghdr m = {.msg_control = c.b, .msg_controllen = 0};
		int r = getsockopt(sv[1], IPPROTO_IP, IP_PKTOPTIONS, c.b, &len);
		m.msg_controllen = r == 0 ? len : 0;
		snprintf(what, sizeof what, "%s IP_PKTOPTIONS", k->name);
		printCmsgs(what, r < 0 ? r : len, &m, 0);
	}
	close(sv[0]);
	close(sv[1]);
}

// loopbackAddr fills ss with family's loopback address, port 0, and
// returns its length.
static socklen_t loopbackAddr(int family, struct sockaddr_storage *ss) {
	memset(ss, 0, sizeof *ss);
	if (family == AF_INET) {
		struct sockaddr_in *a = (void *)ss;
		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		return sizeof *a;
	}
	struct sockaddr_in6 *a = (void *)ss;
	a->sin6_family = AF_INET6;
	a->sin6_addr = in6addr_loopback;
	return sizeof *a;
}

// inherited shows what a connection accepted by a listening TCP socket
// takes over from it (sk_clone_lock copies the listener).
static void inherited(const struct kind *k) {
	int l = socket(k->family, SOCK_STREAM, 0), on = 1, v;
	static const struct {
		const char *name;
		int level, opt, v;
	} set[] = {
		{"TCP_NODELAY", IPPROTO_TCP, TCP_NODELAY, 1},
		{"SO_KEEPALIVE", SOL_SOCKET, SO_KEEPALIVE, 1},
		{"TCP_KEEPIDLE", IPPROTO_TCP, TCP_KEEPIDLE, 30},
		{"TCP_KEEPINTVL", IPPROTO_TCP, TCP_KEEPINTVL, 7},
		{"TCP_KEEPCNT", IPPROTO_TCP, TCP_KEEPCNT, 4},
		{"TCP_USER_TIMEOUT", IPPROTO_TCP, TCP_USER_TIMEOUT, 5000},
		{"TCP_LINGER2", IPPROTO_TCP, TCP_LINGER2, 20},
		{"TCP_CORK", IPPROTO_TCP, TCP_CORK, 1},
		{"TCP_WINDOW_CLAMP", IPPROTO_TCP, TCP_WINDOW_CLAMP, 20000},
		{"TCP_DEFER_ACCEPT", IPPROTO_TCP, TCP_DEFER_ACCEPT, 0},
		{"TCP_INQ", IPPROTO_TCP, TCP_INQ, 1},
		{"SO_RCVLOWAT", SOL_SOCKET, SO_RCVLOWAT, 16},
		{"SO_PRIORITY", SOL_SOCKET, SO_PRIORITY, 5},
		{"SO_MARK", SOL_SOCKET, SO_MARK, 77},
		{"SO_TIMESTAMP", SOL_SOCKET, SO_TIMESTAMP, 1},
		{"IP_TOS", IPPROTO_IP, IP_TOS, 0x10},
		{"IP_TTL", IPPROTO_IP, IP_TTL, 33},
		{"IP_PKTINFO", IPPROTO_IP, IP_PKTINFO, 1},
		{"IP_RECVERR", IPPROTO_IP, IP_RECVERR, 1},
	};
	for (int i = 0; i < N(set); i++) {
		v = set[i].v;
		setsockopt(l, set[i].level, set[i].opt, &v, sizeof v);
	}
	struct linger lg = {1, 3};
	setsockopt(l, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	struct timeval tv = {3, 0};
	setsockopt(l, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	(void)on;
	struct sockaddr_storage ss;
	socklen_t sl = loopbackAddr(k->family, &ss);
	bind(l, (void *)&ss, sl);
	getsockname(l, (void *)&ss, &sl);
	listen(l, 1);
	int c = socket(k->family, SOCK_STREAM, 0);
	connect(c, (void *)&ss, sl);
	int n = accept(l, NULL, NULL);
	char what[128];
	for (int i = 0; i < N(set); i++) {
		snprintf(what, sizeof what, "%s accepted %s", k->name, set[i].name);
		getShow(what, n, set[i].level, set[i].opt, 4);
	}
	snprintf(what, sizeof what, "%s accepted SO_LINGER", k->name);
	getShow(what, n, SOL_SOCKET, SO_LINGER, 8);
	socklen_t tl = sizeof tv;
	memset(&tv, 0, sizeof tv);
	getsockopt(n, SOL_SOCKET, SO_RCVTIMEO, &tv, &tl);
	printf("%s accepted SO_RCVTIMEO: %ld.%06ld\n", k->name, (long)tv.tv_sec, (long)tv.tv_usec);
	close(c);
	close(n);
	close(l);
}

// sendCm sends "data" from fd with one control message of level, type
// and the n bytes at v, and prints the result.
static long sendCm(int fd, int level, int type, const void *v, int n) {
	union {
		char b[CMSG_SPACE(64)];
		struct cmsghdr align;
	} c;
	memset(&c, 0, sizeof c);
	struct iovec iov = {"data", 4};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.b, .msg_controllen = CMSG_SPACE(n)};
	struct cmsghdr *h = CMSG_FIRSTHDR(&m);
	h->cmsg_level = level;
	h->cmsg_type = type;
	h->cmsg_len = CMSG_LEN(n);
	memcpy(CMSG_DATA(h), v, n);
	return sendmsg(fd, &m, 0);
}

// sendCmsgs sends with control messages on a pair of k: the ones a UDP
// send takes change the datagram as the receiver sees it; others are
// refused as Linux refuses them.
static void sendCmsgs(const struct kind *k) {
	int sv[2], on = 1, v;
	char what[160];
	if (pair(k, sv) < 0)
		return;
	struct timeval tv = {2, 0};
	setsockopt(sv[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	int v6 = k->family == AF_INET6;
	if (k->type == SOCK_DGRAM) {
		if (v6) {
			setsockopt(sv[1], IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &on, sizeof on);
			setsockopt(sv[1], IPPROTO_IPV6, IPV6_RECVTCLASS, &on, sizeof on);
		} else {
			setsockopt(sv[1], IPPROTO_IP, IP_RECVTTL, &on, sizeof on);
			setsockopt(sv[1], IPPROTO_IP, IP_RECVTOS, &on, sizeof on);
		}
	}
	struct {
		const char *name;
		int level, type, n;
		unsigned char v[20];
	} cm[] = {
		{"IP_TTL 7", IPPROTO_IP, IP_TTL, 4, {7}},
		{"IP_TTL 0", IPPROTO_IP, IP_TTL, 4, {0}},
		{"IP_TTL len 2", IPPROTO_IP, IP_TTL, 2, {7}},
		{"IP_TOS 0x20", IPPROTO_IP, IP_TOS, 4, {0x20}},
		{"IP_TOS byte 0x28", IPPROTO_IP, IP_TOS, 1, {0x28}},
		{"IP_TOS 256", IPPROTO_IP, IP_TOS, 4, {0, 1}},
		{"IP_PKTINFO 127.0.0.1", IPPROTO_IP, IP_PKTINFO, 12, {0, 0, 0, 0, 127, 0, 0, 1}},
		{"IP_PKTINFO ifindex 1", IPPROTO_IP, IP_PKTINFO, 12, {1}},
		{"IP_PKTINFO ifindex 99", IPPROTO_IP, IP_PKTINFO, 12, {99}},
		{"IP_PKTINFO 10.9.9.9", IPPROTO_IP, IP_PKTINFO, 12, {0, 0, 0, 0, 10, 9, 9, 9}},
		{"IP_PKTINFO len 8", IPPROTO_IP, IP_PKTINFO, 8, {0}},
		{"SOL_IP 99", IPPROTO_IP, 99, 4, {0}},
		{"IPV6_HOPLIMIT 9", IPPROTO_IPV6, IPV6_HOPLIMIT, 4, {9}},
		{"IPV6_HOPLIMIT 300", IPPROTO_IPV6, IPV6_HOPLIMIT, 4, {0x2c, 1}},
		{"IPV6_TCLASS 0x28", IPPROTO_IPV6, IPV6_TCLASS, 4, {0x28}},
		{"IPV6_PKTINFO ::1", IPPROTO_IPV6, IPV6_PKTINFO, 20, {[15] = 1}},
		{"IPV6_PKTINFO ifindex 99", IPPROTO_IPV6, IPV6_PKTINFO, 20, {[16] = 99}},
		{"IPV6_PKTINFO 2001:db8::1", IPPROTO_IPV6, IPV6_PKTINFO, 20, {0x20, 1, 0xd, 0xb8, [15] = 1}},
		{"IPV6_DONTFRAG 0", IPPROTO_IPV6, IPV6_DONTFRAG, 4, {0}},
		{"SOL_IPV6 99", IPPROTO_IPV6, 99, 4, {0}},
		{"level 999", 999, 1, 4, {1}},
		{"SCM_RIGHTS", SOL_SOCKET, SCM_RIGHTS, 4, {0}},
		{"SCM_CREDENTIALS", SOL_SOCKET, SCM_CREDENTIALS, 12, {0}},
		{"SO_MARK", SOL_SOCKET, SO_MARK, 4, {5}},
		{"SO_PRIORITY", SOL_SOCKET, SO_PRIORITY, 4, {3}},
		{"SO_PRIORITY len 2", SOL_SOCKET, SO_PRIORITY, 2, {3}},
		{"SO_TIMESTAMPING 0", SOL_SOCKET, SO_TIMESTAMPING, 4, {0}},
		{"SO_TIMESTAMPING RX", SOL_SOCKET, SO_TIMESTAMPING, 4, {SOF_TIMESTAMPING_RX_SOFTWARE}},
		{"SCM_TXTIME", SOL_SOCKET, SCM_TXTIME, 8, {0}},
		{"UDP_SEGMENT len 4", IPPROTO_UDP, UDP_SEGMENT, 4, {0}},
		{"SOL_UDP 1", IPPROTO_UDP, 1, 4, {0}},
	};
	for (int i = 0; i < N(cm); i++) {
		snprintf(what, sizeof what, "%s sendmsg %s", k->name, cm[i].name);
		long r = sendCm(sv[0], cm[i].level, cm[i].type, cm[i].v, cm[i].n);
		show(what, r);
		if (r < 0 || k->type != SOCK_DGRAM)
			continue;
		union {
			char b[256];
			struct cmsghdr align;
		} c;
		char data[16];
		struct iovec iov = {data, sizeof data};
		struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.b, .msg_controllen = sizeof c.b};
		snprintf(what, sizeof what, "%s received %s", k->name, cm[i].name);
		printCmsgs(what, recvmsg(sv[1], &m, 0), &m, 0);
	}
	if (k->type == SOCK_DGRAM) {
		// UDP_SEGMENT: one send, datagrams of the size (Linux cuts
		// them up on the way to a receiver that did not ask for
		// UDP_GRO).
		char big[600], b[64];
		memset(big, 'x', sizeof big);
		v = 4;
		snprintf(what, sizeof what, "%s UDP_SEGMENT 4", k->name);
		show(what, setsockopt(sv[0], IPPROTO_UDP, UDP_SEGMENT, &v, sizeof v));
		snprintf(what, sizeof what, "%s send 10 with UDP_SEGMENT 4", k->name);
		show(what, send(sv[0], big, 10, 0));
		for (int i = 0; i < 3; i++) {
			snprintf(what, sizeof what, "%s segment %d", k->name, i);
			show(what, recv(sv[1], b, sizeof b, 0));
		}
		snprintf(what, sizeof what, "%s send 4 with UDP_SEGMENT 4", k->name);
		show(what, send(sv[0], big, 4, 0));
		snprintf(what, sizeof what, "%s one segment", k->name);
		show(what, recv(sv[1], b, sizeof b, 0));
		snprintf(what, sizeof what, "%s send 600 with UDP_SEGMENT 4", k->name);
		show(what, send(sv[0], big, 600, 0));
		v = 0;
		setsockopt(sv[0], IPPROTO_UDP, UDP_SEGMENT, &v, sizeof v);
		unsigned short g = 3;
		snprintf(what, sizeof what, "%s sendmsg UDP_SEGMENT 3 of 4", k->name);
		show(what, sendCm(sv[0], IPPROTO_UDP, UDP_SEGMENT, &g, 2));
		for (int i = 0; i < 2; i++) {
			snprintf(what, sizeof what, "%s cmsg segment %d", k->name, i);
			show(what, recv(sv[1], b, sizeof b, 0));
		}
		snprintf(what, sizeof what, "%s nothing more", k->name);
		show(what, recv(sv[1], b, sizeof b, MSG_DONTWAIT));
		// MSG_MORE and UDP_CORK gather one datagram.
		snprintf(what, sizeof what, "%s send MSG_MORE", k->name);
		show(what, send(sv[0], "ab", 2, MSG_MORE));
		snprintf(what, sizeof what, "%s nothing yet", k->name);
		show(what, recv(sv[1], b, sizeof b, MSG_DONTWAIT));
		snprintf(what, sizeof what, "%s send the rest", k->name);
		show(what, send(sv[0], "cd", 2, 0));
		long n = recv(sv[1], b, sizeof b, MSG_DONTWAIT);
		printf("%s one datagram: %ld \"%.*s\"\n", k->name, n, (int)(n > 0 ? n : 0), b);
		v = 1;
		snprintf(what, sizeof what, "%s UDP_CORK", k->name);
		show(what, setsockopt(sv[0], IPPROTO_UDP, UDP_CORK, &v, sizeof v));
		snprintf(what, sizeof what, "%s UDP_CORK get", k->name);
		getShow(what, sv[0], IPPROTO_UDP, UDP_CORK, 4);
		send(sv[0], "12", 2, 0);
		send(sv[0], "34", 2, 0);
		snprintf(what, sizeof what, "%s corked", k->name);
		show(what, recv(sv[1], b, sizeof b, MSG_DONTWAIT));
		v = 0;
		setsockopt(sv[0], IPPROTO_UDP, UDP_CORK, &v, sizeof v);
		n = recv(sv[1], b, sizeof b, 0);
		printf("%s uncorked: %ld \"%.*s\"\n", k->name, n, (int)(n > 0 ? n : 0), b);
		static char huge[70000];
		snprintf(what, sizeof what, "%s MSG_MORE past 65507", k->name);
		send(sv[0], huge, 60000, MSG_MORE);
		show(what, send(sv[0], huge, 6000, MSG_MORE));
		send(sv[0], "z", 1, 0);
		n = recv(sv[1], huge, sizeof huge, 0);
		printf("%s then: %ld\n", k->name, n);

		if (v6) {
			// To an IPv4-mapped peer: IPv4's messages count, IPv6's
			// are passed over.
			int s4 = socket(AF_INET, SOCK_DGRAM, 0);
			struct sockaddr_in a = {.sin_family = AF_INET};
			a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
			bind(s4, (void *)&a, sizeof a);
			socklen_t al = sizeof a;
			getsockname(s4, (void *)&a, &al);
			setsockopt(s4, IPPROTO_IP, IP_RECVTTL, &on, sizeof on);
			setsockopt(s4, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
			int u = socket(AF_INET6, SOCK_DGRAM, 0);
			struct sockaddr_in6 to = {.sin6_family = AF_INET6, .sin6_port = a.sin_port};
			inet_pton(AF_INET6, "::ffff:127.0.0.1", &to.sin6_addr);
			connect(u, (void *)&to, sizeof to);
			v = 11;
			show("udp6 mapped sendmsg IP_TTL 11", sendCm(u, IPPROTO_IP, IP_TTL, &v, 4));
			v = 99;
			show("udp6 mapped sendmsg SOL_IPV6 99", sendCm(u, IPPROTO_IPV6, 99, &v, 4));
			union {
				char b[256];
				struct cmsghdr align;
			} c;
			char data[16];
			for (int i = 0; i < 2; i++) {
				struct iovec iov = {data, sizeof data};
				struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.b, .msg_controllen = sizeof c.b};
				printCmsgs("udp6 mapped received", recvmsg(s4, &m, 0), &m, 0);
			}
			close(u);
			close(s4);
		}
	}
	close(sv[0]);
	close(sv[1]);
}

// multicast joins and leaves groups on lo with a socket of k, and sends
// to an IPv4 group through lo.
static void multicast(const struct kind *k) {
	char what[128];
	int fd = socket(k->family, k->type, 0);
#define TRY(label, call) \
	do { \
		snprintf(what, sizeof what, "%s %s", k->name, label); \
		show(what, call); \
	} while (0)
	struct ip_mreq m;
	inet_pton(AF_INET, "224.1.2.3", &m.imr_multiaddr);
	inet_pton(AF_INET, "127.0.0.1", &m.imr_interface);
	struct group_req g;
	memset(&g, 0, sizeof g);
	g.gr_interface = 1;
	struct sockaddr_in *gs = (void *)&g.gr_group;
	gs->sin_family = AF_INET;
	inet_pton(AF_INET, "224.1.2.7", &gs->sin_addr);
	if (k->family == AF_INET) {
		TRY("IP_ADD_MEMBERSHIP len 4", setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, 4));
		TRY("IP_ADD_MEMBERSHIP", setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof m));
		TRY("IP_ADD_MEMBERSHIP again", setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof m));
		TRY("IP_DROP_MEMBERSHIP", setsockopt(fd, IPPROTO_IP, IP_DROP_MEMBERSHIP, &m, sizeof m));
		TRY("IP_DROP_MEMBERSHIP again", setsockopt(fd, IPPROTO_IP, IP_DROP_MEMBERSHIP, &m, sizeof m));
		struct ip_mreq bad = m;
		inet_pton(AF_INET, "10.1.2.3", &bad.imr_multiaddr);
		TRY("IP_ADD_MEMBERSHIP unicast", setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &bad, sizeof bad));
		bad = m;
		inet_pton(AF_INET, "10.9.9.9", &bad.imr_interface);
		TRY("IP_ADD_MEMBERSHIP 10.9.9.9", setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &bad, sizeof bad));
		TRY("IP_DROP_MEMBERSHIP 10.9.9.9", setsockopt(fd, IPPROTO_IP, IP_DROP_MEMBERSHIP, &bad, sizeof bad));
		struct ip_mreqn mn;
		memset(&mn, 0, sizeof mn);
		inet_pton(AF_INET, "224.1.2.4", &mn.imr_multiaddr);
		mn.imr_ifindex = 1;
		TRY("IP_ADD_MEMBERSHIP mreqn lo", setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mn, sizeof mn));
		mn.imr_ifindex = 99;
		TRY("IP_ADD_MEMBERSHIP mreqn 99", setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mn, sizeof mn));
		TRY("MCAST_JOIN_GROUP", setsockopt(fd, IPPROTO_IP, MCAST_JOIN_GROUP, &g, sizeof g));
		TRY("MCAST_JOIN_GROUP again", setsockopt(fd, IPPROTO_IP, MCAST_JOIN_GROUP, &g, sizeof g));
		TRY("MCAST_LEAVE_GROUP", setsockopt(fd, IPPROTO_IP, MCAST_LEAVE_GROUP, &g, sizeof g));
		TRY("MCAST_JOIN_GROUP len 8", setsockopt(fd, IPPROTO_IP, MCAST_JOIN_GROUP, &g, 8));
		gs->sin_family = AF_INET6;
		TRY("MCAST_JOIN_GROUP AF_INET6", setsockopt(fd, IPPROTO_IP, MCAST_JOIN_GROUP, &g, sizeof g));
		struct in_addr lo;
		inet_pton(AF_INET, "127.0.0.1", &lo);
		TRY("IP_MULTICAST_IF 127.0.0.1", setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &lo, sizeof lo));
		snprintf(what, sizeof what, "%s IP_MULTICAST_IF get", k->name);
		getShow(what, fd, IPPROTO_IP, IP_MULTICAST_IF, 4);
		inet_pton(AF_INET, "10.9.9.9", &lo);
		TRY("IP_MULTICAST_IF 10.9.9.9", setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &lo, sizeof lo));
		TRY("IP_MULTICAST_IF len 2", setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &lo, 2));
		memset(&mn, 0, sizeof mn);
		mn.imr_ifindex = 1;
		TRY("IP_MULTICAST_IF mreqn lo", setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &mn, sizeof mn));
		getShow(what, fd, IPPROTO_IP, IP_MULTICAST_IF, 4);
		mn.imr_ifindex = 99;
		TRY("IP_MULTICAST_IF mreqn 99", setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &mn, sizeof mn));
		lo.s_addr = 0;
		TRY("IP_MULTICAST_IF any", setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &lo, sizeof lo));
		// Source filters: the sizes Linux checks first.
		char big[300];
		memset(big, 0, sizeof big);
		TRY("IP_ADD_SOURCE_MEMBERSHIP len 8", setsockopt(fd, IPPROTO_IP, IP_ADD_SOURCE_MEMBERSHIP, big, 8));
		TRY("IP_BLOCK_SOURCE len 16", setsockopt(fd, IPPROTO_IP, IP_BLOCK_SOURCE, big, 16));
		TRY("IP_MSFILTER len 8", setsockopt(fd, IPPROTO_IP, IP_MSFILTER, big, 8));
		TRY("MCAST_JOIN_SOURCE_GROUP len 136", setsockopt(fd, IPPROTO_IP, MCAST_JOIN_SOURCE_GROUP, big, 136));
		TRY("MCAST_MSFILTER len 100", setsockopt(fd, IPPROTO_IP, MCAST_MSFILTER, big, 100));
		socklen_t bl = 8;
		TRY("get IP_MSFILTER len 8", getsockopt(fd, IPPROTO_IP, IP_MSFILTER, big, &bl));
		bl = 100;
		TRY("get MCAST_MSFILTER len 100", getsockopt(fd, IPPROTO_IP, MCAST_MSFILTER, big, &bl));

		if (k->type == SOCK_DGRAM) {
			// A datagram to a group joined on lo.
			int r = socket(AF_INET, SOCK_DGRAM, 0), s = socket(AF_INET, SOCK_DGRAM, 0);
			struct sockaddr_in a = {.sin_family = AF_INET};
			bind(r, (void *)&a, sizeof a);
			socklen_t al = sizeof a;
			getsockname(r, (void *)&a, &al);
			setsockopt(r, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof m);
			inet_pton(AF_INET, "127.0.0.1", &lo);
			setsockopt(s, IPPROTO_IP, IP_MULTICAST_IF, &lo, sizeof lo);
			inet_pton(AF_INET, "224.1.2.3", &a.sin_addr);
			show("udp4 send to 224.1.2.3", sendto(s, "mc", 2, 0, (void *)&a, sizeof a));
			struct timeval tv = {2, 0};
			setsockopt(r, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
			char b[8];
			show("udp4 member receives", recv(r, b, sizeof b, 0));
			setsockopt(r, IPPROTO_IP, IP_DROP_MEMBERSHIP, &m, sizeof m);
			show("udp4 send after the drop", sendto(s, "mc", 2, 0, (void *)&a, sizeof a));
			tv.tv_sec = 0;
			tv.tv_usec = 200000;
			setsockopt(r, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
			show("udp4 former member receives", recv(r, b, sizeof b, 0));
			close(r);
			close(s);
		}
	} else {
		struct ipv6_mreq m6;
		inet_pton(AF_INET6, "ff02::1234", &m6.ipv6mr_multiaddr);
		m6.ipv6mr_interface = 1;
		TRY("IPV6_ADD_MEMBERSHIP len 8", setsockopt(fd, IPPROTO_IPV6, IPV6_ADD_MEMBERSHIP, &m6, 8));
		TRY("IPV6_ADD_MEMBERSHIP", setsockopt(fd, IPPROTO_IPV6, IPV6_ADD_MEMBERSHIP, &m6, sizeof m6));
		TRY("IPV6_ADD_MEMBERSHIP again", setsockopt(fd, IPPROTO_IPV6, IPV6_ADD_MEMBERSHIP, &m6, sizeof m6));
		TRY("IPV6_DROP_MEMBERSHIP", setsockopt(fd, IPPROTO_IPV6, IPV6_DROP_MEMBERSHIP, &m6, sizeof m6));
		TRY("IPV6_DROP_MEMBERSHIP again", setsockopt(fd, IPPROTO_IPV6, IPV6_DROP_MEMBERSHIP, &m6, sizeof m6));
		m6.ipv6mr_interface = 99;
		TRY("IPV6_ADD_MEMBERSHIP 99", setsockopt(fd, IPPROTO_IPV6, IPV6_ADD_MEMBERSHIP, &m6, sizeof m6));
		m6.ipv6mr_interface = 1;
		inet_pton(AF_INET6, "2001:db8::1", &m6.ipv6mr_multiaddr);
		TRY("IPV6_ADD_MEMBERSHIP unicast", setsockopt(fd, IPPROTO_IPV6, IPV6_ADD_MEMBERSHIP, &m6, sizeof m6));
		struct sockaddr_in6 *g6 = (void *)&g.gr_group;
		memset(&g, 0, sizeof g);
		g.gr_interface = 1;
		g6->sin6_family = AF_INET6;
		inet_pton(AF_INET6, "ff02::1235", &g6->sin6_addr);
		TRY("IPV6 MCAST_JOIN_GROUP", setsockopt(fd, IPPROTO_IPV6, MCAST_JOIN_GROUP, &g, sizeof g));
		TRY("IPV6 MCAST_LEAVE_GROUP", setsockopt(fd, IPPROTO_IPV6, MCAST_LEAVE_GROUP, &g, sizeof g));
		g6->sin6_family = AF_INET;
		TRY("IPV6 MCAST_JOIN_GROUP AF_INET", setsockopt(fd, IPPROTO_IPV6, MCAST_JOIN_GROUP, &g, sizeof g));
	}
	close(fd);
#undef TRY
}

// moreIoctls tries the owner ioctls, SIOCGSTAMP and the queue ioctls of
// an unconnected and a listening socket of k.
static void moreIoctls(const struct kind *k) {
	char what[128];
	int fd = socket(k->family, k->type, 0), v = -7;
#define IOV(label, fd, req, argp) \
	do { \
		snprintf(what, sizeof what, "%s %s", k->name, label); \
		long r = ioctl(fd, req, argp); \
		if (r < 0) \
			printf("%s: %s\n", what, errname(errno)); \
		else \
			printf("%s: %ld\n", what, r); \
	} while (0)
	v = -7;
	IOV("FIOGETOWN", fd, FIOGETOWN, &v);
	printf("%s FIOGETOWN value %d\n", k->name, v);
	v = getpid();
	IOV("FIOSETOWN pid", fd, FIOSETOWN, &v);
	v = 0;
	ioctl(fd, FIOGETOWN, &v);
	printf("%s FIOGETOWN is pid %d, F_GETOWN too %d\n", k->name, v == getpid(), fcntl(fd, F_GETOWN) == getpid());
	v = -getpgrp();
	IOV("SIOCSPGRP -pgrp", fd, SIOCSPGRP, &v);
	v = 0;
	ioctl(fd, SIOCGPGRP, &v);
	printf("%s SIOCGPGRP is -pgrp %d\n", k->name, v == -getpgrp());
	v = 999999;
	IOV("FIOSETOWN 999999", fd, FIOSETOWN, &v);
	IOV("FIOSETOWN bad pointer", fd, FIOSETOWN, (void *)8);
	struct timeval tv;
	struct timespec ts;
	IOV("SIOCGSTAMP before", fd, SIOCGSTAMP, &tv);
	IOV("SIOCGSTAMPNS before", fd, SIOCGSTAMPNS, &ts);
	v = -7;
	IOV("SIOCOUTQ unconnected", fd, SIOCOUTQ, &v);
	printf("%s SIOCOUTQ unconnected value %d\n", k->name, v);
	v = -7;
	IOV("SIOCINQ unconnected", fd, SIOCINQ, &v);
	if (k->type == SOCK_STREAM && isInet(k)) {
		listen(fd, 1);
		IOV("SIOCOUTQ listening", fd, SIOCOUTQ, &v);
		IOV("SIOCINQ listening", fd, SIOCINQ, &v);
	}
	close(fd);
	if (k->type == SOCK_DGRAM && isInet(k)) {
		int sv[2];
		if (pair(k, sv) < 0)
			return;
		struct timespec now;
		send(sv[0], "a", 1, 0);
		char b[8];
		recv(sv[1], b, sizeof b, 0);
		clock_gettime(CLOCK_REALTIME, &now);
		snprintf(what, sizeof what, "%s SIOCGSTAMP after a datagram", k->name);
		long r = ioctl(sv[1], SIOCGSTAMP, &tv);
		printf("%s: %ld sane %d\n", what, r, r == 0 && tv.tv_sec >= now.tv_sec - 60 && tv.tv_sec <= now.tv_sec);
		send(sv[0], "b", 1, 0);
		recv(sv[1], b, sizeof b, 0);
		snprintf(what, sizeof what, "%s SIOCGSTAMPNS after another", k->name);
		r = ioctl(sv[1], SIOCGSTAMPNS, &ts);
		printf("%s: %ld sane %d\n", what, r, r == 0 && ts.tv_sec >= now.tv_sec - 60 && ts.tv_sec <= now.tv_sec + 60 && ts.tv_nsec < 1000000000);
		close(sv[0]);
		close(sv[1]);
	}
#undef IOV
}

// errRecv receives from fd with flags and prints the data, the name's
// family, the flags and any IP_RECVERR message.
static void errRecv(const char *what, int fd, int flags) {
	char data[16], c[256];
	struct sockaddr_in6 name;
	memset(&name, 0, sizeof name);
	struct iovec iov = {data, sizeof data};
	struct msghdr m = {.msg_name = &name, .msg_namelen = sizeof name, .msg_iov = &iov, .msg_iovlen = 1,
			   .msg_control = c, .msg_controllen = sizeof c};
	long r = recvmsg(fd, &m, flags);
	if (r < 0) {
		printf("%s: %s\n", what, errname(errno));
		return;
	}
	printf("%s: %ld \"%.*s\" flags %#x namelen %u family %d", what, r, (int)r, data, m.msg_flags, m.msg_namelen,
	       name.sin6_family);
	for (struct cmsghdr *h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h)) {
		struct sock_extended_err e;
		memcpy(&e, CMSG_DATA(h), sizeof e);
		struct sockaddr_in6 off;
		memcpy(&off, CMSG_DATA(h) + sizeof e, sizeof off);
		printf(" [%d/%d len %zu %s origin %u type %u code %u info %u offender family %d]", h->cmsg_level,
		       h->cmsg_type, (size_t)h->cmsg_len, errname(e.ee_errno), e.ee_origin, e.ee_type, e.ee_code,
		       e.ee_info, off.sin6_family);
	}
	printf("\n");
}

// errQueue sends to a closed port of loopback from a connected UDP
// socket of k, without and with IP_RECVERR, and reads the error queue
// and the socket: the ICMP port unreachable is the next receive's
// ECONNREFUSED, and with IP_RECVERR a message on the error queue too,
// whose taking clears it. MSG_ERRQUEUE never waits; AF_UNIX passes it
// over.
static void errQueue(const struct kind *k) {
	char what[128];
	if (!isInet(k)) {
		int sv[2];
		socketpair(AF_UNIX, k->type, 0, sv);
		send(sv[0], "u", 1, 0);
		snprintf(what, sizeof what, "%s MSG_ERRQUEUE", k->name);
		errRecv(what, sv[1], MSG_ERRQUEUE | MSG_DONTWAIT);
		close(sv[0]);
		close(sv[1]);
		return;
	}
	if (k->type == SOCK_STREAM) {
		int t = socket(k->family, SOCK_STREAM, 0);
		snprintf(what, sizeof what, "%s MSG_ERRQUEUE", k->name);
		errRecv(what, t, MSG_ERRQUEUE);
		close(t);
		return;
	}
	int sv[2];
	if (pair(k, sv) < 0)
		return;
	close(sv[1]); // the port it was bound to is closed now
	for (int re = 0; re < 2; re++) {
		int u = socket(k->family, SOCK_DGRAM, 0), on = re;
		setsockopt(u, k->family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6,
			   k->family == AF_INET ? IP_RECVERR : IPV6_RECVERR, &on, sizeof on);
		struct sockaddr_storage peer;
		socklen_t pl = sizeof peer;
		getsockname(sv[0], (void *)&peer, &pl);
		getpeername(sv[0], (void *)&peer, &pl);
		connect(u, (void *)&peer, pl);
		snprintf(what, sizeof what, "%s RECVERR %d MSG_ERRQUEUE empty", k->name, re);
		errRecv(what, u, MSG_ERRQUEUE);
		send(u, "dead", 4, 0);
		struct pollfd p = {u, POLLIN, 0};
		poll(&p, 1, 5000);
		printf("%s RECVERR %d poll: %#x\n", k->name, re, p.revents);
		snprintf(what, sizeof what, "%s RECVERR %d MSG_ERRQUEUE", k->name, re);
		errRecv(what, u, MSG_ERRQUEUE);
		snprintf(what, sizeof what, "%s RECVERR %d MSG_ERRQUEUE again", k->name, re);
		errRecv(what, u, MSG_ERRQUEUE);
		snprintf(what, sizeof what, "%s RECVERR %d recv", k->name, re);
		errRecv(what, u, MSG_DONTWAIT);
		close(u);
	}
	close(sv[0]);
}

// peekOff peeks at a stream of k with SO_PEEK_OFF: each peek starts
// where the last one ended, a read moves the offset back, nothing past
// the offset is EAGAIN (the end after the peer's FIN), -1 turns it off.
static void peekOff(const struct kind *k) {
	int sv[2], v = 0;
	char b[16], what[96];
	if (pair(k, sv) < 0)
		return;
	send(sv[0], "abcdef", 6, 0);
	settle(sv[1], 6);
	socklen_t vl = 4;
#define PK(label, flags, len) \
	do { \
		long n = recv(sv[1], b, len, flags); \
		vl = 4; \
		getsockopt(sv[1], SOL_SOCKET, SO_PEEK_OFF, &v, &vl); \
		snprintf(what, sizeof what, "%s %s", k->name, label); \
		if (n < 0) \
			printf("%s: %s, offset %d\n", what, errname(errno), v); \
		else \
			printf("%s: %ld \"%.*s\", offset %d\n", what, n, (int)n, b, v); \
	} while (0)
	v = 0;
	snprintf(what, sizeof what, "%s SO_PEEK_OFF 0", k->name);
	show(what, setsockopt(sv[1], SOL_SOCKET, SO_PEEK_OFF, &v, sizeof v));
	PK("peek 2", MSG_PEEK, 2);
	PK("peek 2 more", MSG_PEEK, 2);
	PK("read 3", 0, 3);
	PK("peek 16", MSG_PEEK, 16);
	PK("peek past", MSG_PEEK | MSG_DONTWAIT, 16);
	PK("read 16", 0, 16);
	v = -1;
	setsockopt(sv[1], SOL_SOCKET, SO_PEEK_OFF, &v, sizeof v);
	send(sv[0], "xy", 2, 0);
	settle(sv[1], 2);
	PK("peek with -1", MSG_PEEK, 16);
	PK("peek with -1 again", MSG_PEEK, 16);
	v = 5;
	setsockopt(sv[1], SOL_SOCKET, SO_PEEK_OFF, &v, sizeof v);
	shutdown(sv[0], SHUT_WR);
	struct pollfd p = {sv[1], POLLRDHUP, 0};
	poll(&p, 1, 5000);
	PK("peek past at the end", MSG_PEEK | MSG_DONTWAIT, 16);
	v = -5;
	snprintf(what, sizeof what, "%s SO_PEEK_OFF -5", k->name);
	show(what, setsockopt(sv[1], SOL_SOCKET, SO_PEEK_OFF, &v, sizeof v));
	vl = 4;
	getsockopt(sv[1], SOL_SOCKET, SO_PEEK_OFF, &v, &vl);
	printf("%s SO_PEEK_OFF after -5: %d\n", k->name, v);
	close(sv[0]);
	close(sv[1]);
#undef PK
}

// pair makes two connected sockets of k over loopback (a listener's
// accepted end for streams, connected datagram sockets otherwise).
static int pair(const struct kind *k, int sv[2]) {
	if (!isInet(k))
		return socketpair(AF_UNIX, k->type, 0, sv);
	struct sockaddr_storage ss;
	socklen_t sl = loopbackAddr(k->family, &ss);
	int l = socket(k->family, k->type, 0);
	if (bind(l, (void *)&ss, sl) < 0 || getsockname(l, (void *)&ss, &sl) < 0)
		return -1;
	if (k->type == SOCK_STREAM) {
		listen(l, 1);
		sv[0] = socket(k->family, k->type, 0);
		if (connect(sv[0], (void *)&ss, sl) < 0)
			return -1;
		sv[1] = accept(l, NULL, NULL);
		close(l);
		return sv[1] < 0 ? -1 : 0;
	}
	sv[1] = l;
	sv[0] = socket(k->family, k->type, 0);
	if (connect(sv[0], (void *)&ss, sl) < 0)
		return -1;
	struct sockaddr_storage me;
	socklen_t ml = sizeof me;
	getsockname(sv[0], (void *)&me, &ml);
	return connect(sv[1], (void *)&me, ml);
}

// settle waits until fd has n bytes to read (loopback delivers at once
// on Linux; Cocoon's stack may take a moment).
static void settle(int fd, int n) {
	for (int i = 0; i < 2000; i++) {
		int q = 0;
		if (ioctl(fd, FIONREAD, &q) == 0 && q >= n)
			return;
		struct pollfd p = {fd, POLLIN, 0};
		poll(&p, 1, 5);
	}
}

// ioctls prints the queue ioctls on a connected pair of k with data
// queued.
static void ioctls(const struct kind *k) {
	int sv[2];
	char what[96];
	if (pair(k, sv) < 0) {
		printf("%s pair: %s\n", k->name, errname(errno));
		return;
	}
	int q = -7;
#define IO(label, fd, req, arg) \
	do { \
		snprintf(what, sizeof what, "%s %s", k->name, label); \
		q = -7; \
		long r = ioctl(fd, req, arg); \
		if (r < 0) \
			printf("%s: %s\n", what, errname(errno)); \
		else \
			printf("%s: %ld value %d\n", what, r, q); \
	} while (0)
	IO("FIONREAD empty", sv[1], FIONREAD, &q);
	IO("SIOCATMARK empty", sv[1], SIOCATMARK, &q);
	send(sv[0], "hello", 5, 0);
	send(sv[0], "world!", 6, 0);
	settle(sv[1], k->type == SOCK_STREAM ? 11 : 5);
	IO("FIONREAD", sv[1], FIONREAD, &q);
	IO("SIOCINQ", sv[1], SIOCINQ, &q);
	if (!isInet(k)) {
		// The sender's queue: Linux counts the memory its buffers
		// take, not bytes.
		IO("SIOCOUTQ receiver", sv[1], SIOCOUTQ, &q);
		q = 0;
		snprintf(what, sizeof what, "%s SIOCOUTQ sender", k->name);
		long r = ioctl(sv[0], SIOCOUTQ, &q);
		printf("%s: %ld nonzero %d\n", what, r, q > 0);
	}
	int on = 1;
	IO("FIONBIO", sv[1], FIONBIO, &on);
	snprintf(what, sizeof what, "%s after FIONBIO O_NONBLOCK", k->name);
	printf("%s: %d\n", what, !!(fcntl(sv[1], F_GETFL) & O_NONBLOCK));
	on = 0;
	IO("FIONBIO off", sv[1], FIONBIO, &on);
	on = 1;
	IO("FIOASYNC", sv[1], FIOASYNC, &on);
	snprintf(what, sizeof what, "%s after FIOASYNC O_ASYNC", k->name);
	printf("%s: %d\n", what, !!(fcntl(sv[1], F_GETFL) & O_ASYNC));
	on = 0;
	IO("FIOASYNC off", sv[1], FIOASYNC, &on);
	IO("TIOCGWINSZ", sv[1], TIOCGWINSZ, &q);
	char b[64];
	recv(sv[1], b, sizeof b, 0);
	IO("FIONREAD after a read", sv[1], FIONREAD, &q);
	close(sv[0]);
	close(sv[1]);
#undef IO
}

// ifioctls asks for lo's flags, address, index, MTU and hardware address
// through a socket of k, and looks for lo in SIOCGIFCONF.
static void ifioctls(const struct kind *k) {
	int fd = socket(k->family, k->type, 0);
	char what[96];
	struct ifreq r;
#define IF(label, req, fmt, ...) \
	do { \
		memset(&r, 0, sizeof r); \
		strcpy(r.ifr_name, "lo"); \
		snprintf(what, sizeof what, "%s %s", k->name, label); \
		if (ioctl(fd, req, &r) < 0) \
			printf("%s: %s\n", what, errname(errno)); \
		else \
			printf("%s: " fmt "\n", what, __VA_ARGS__); \
	} while (0)
	IF("SIOCGIFFLAGS lo", SIOCGIFFLAGS, "%#x", r.ifr_flags & 0xffff);
	IF("SIOCGIFINDEX lo", SIOCGIFINDEX, "%d", r.ifr_ifindex);
	IF("SIOCGIFMTU lo", SIOCGIFMTU, "%d", r.ifr_mtu);
	IF("SIOCGIFADDR lo", SIOCGIFADDR, "family %d %s", r.ifr_addr.sa_family,
	   inet_ntoa(((struct sockaddr_in *)&r.ifr_addr)->sin_addr));
	IF("SIOCGIFNETMASK lo", SIOCGIFNETMASK, "family %d %s", r.ifr_netmask.sa_family,
	   inet_ntoa(((struct sockaddr_in *)&r.ifr_netmask)->sin_addr));
	IF("SIOCGIFHWADDR lo", SIOCGIFHWADDR, "family %d %02x%02x%02x%02x%02x%02x", r.ifr_hwaddr.sa_family,
	   (unsigned char)r.ifr_hwaddr.sa_data[0], (unsigned char)r.ifr_hwaddr.sa_data[1],
	   (unsigned char)r.ifr_hwaddr.sa_data[2], (unsigned char)r.ifr_hwaddr.sa_data[3],
	   (unsigned char)r.ifr_hwaddr.sa_data[4], (unsigned char)r.ifr_hwaddr.sa_data[5]);
	IF("SIOCGIFTXQLEN lo", SIOCGIFTXQLEN, "%d", r.ifr_qlen);
	IF("SIOCGIFDSTADDR lo", SIOCGIFDSTADDR, "family %d %s", r.ifr_dstaddr.sa_family,
	   inet_ntoa(((struct sockaddr_in *)&r.ifr_dstaddr)->sin_addr));
	IF("SIOCGIFBRDADDR lo", SIOCGIFBRDADDR, "family %d %s", r.ifr_broadaddr.sa_family,
	   inet_ntoa(((struct sockaddr_in *)&r.ifr_broadaddr)->sin_addr));
	IF("SIOCGIFMAP lo", SIOCGIFMAP, "%lu %lu %u %u %u %u", r.ifr_map.mem_start, r.ifr_map.mem_end,
	   r.ifr_map.base_addr, r.ifr_map.irq, r.ifr_map.dma, r.ifr_map.port);
	IF("SIOCGMIIPHY lo", SIOCGMIIPHY, "%d", 0);

#undef IF
	memset(&r, 0, sizeof r);
	r.ifr_ifindex = 1;
	snprintf(what, sizeof what, "%s SIOCGIFNAME 1", k->name);
	if (ioctl(fd, SIOCGIFNAME, &r) < 0)
		printf("%s: %s\n", what, errname(errno));
	else
		printf("%s: %s\n", what, r.ifr_name);
	memset(&r, 0, sizeof r);
	strcpy(r.ifr_name, "nosuch0");
	snprintf(what, sizeof what, "%s SIOCGIFFLAGS nosuch0", k->name);
	show(what, ioctl(fd, SIOCGIFFLAGS, &r));
	snprintf(what, sizeof what, "%s SIOCGIFFLAGS bad pointer", k->name);
	show(what, ioctl(fd, SIOCGIFFLAGS, (void *)8));

	struct ifreq all[32];
	struct ifconf c = {.ifc_len = sizeof all, .ifc_req = all};
	snprintf(what, sizeof what, "%s SIOCGIFCONF", k->name);
	if (ioctl(fd, SIOCGIFCONF, &c) < 0) {
		printf("%s: %s\n", what, errname(errno));
	} else {
		int lo = 0;
		for (int i = 0; i < c.ifc_len / (int)sizeof(struct ifreq); i++)
			if (strcmp(all[i].ifr_name, "lo") == 0)
				lo = all[i].ifr_addr.sa_family == AF_INET &&
				     ((struct sockaddr_in *)&all[i].ifr_addr)->sin_addr.s_addr == htonl(INADDR_LOOPBACK);
		printf("%s: whole entries %d, lo 127.0.0.1 %d\n", what, c.ifc_len % (int)sizeof(struct ifreq) == 0, lo);
	}
	struct ifconf none = {.ifc_len = 0, .ifc_req = NULL};
	snprintf(what, sizeof what, "%s SIOCGIFCONF NULL", k->name);
	if (ioctl(fd, SIOCGIFCONF, &none) < 0)
		printf("%s: %s\n", what, errname(errno));
	else
		printf("%s: whole entries %d, at least lo %d\n", what, none.ifc_len % (int)sizeof(struct ifreq) == 0,
		       none.ifc_len >= (int)sizeof(struct ifreq));
	struct ifconf small = {.ifc_len = 10, .ifc_req = all};
	snprintf(what, sizeof what, "%s SIOCGIFCONF 10 bytes", k->name);
	if (ioctl(fd, SIOCGIFCONF, &small) < 0)
		printf("%s: %s\n", what, errname(errno));
	else
		printf("%s: len %d\n", what, small.ifc_len);
	close(fd);
}

// Per-kind data path checks.

// stamps receives one message on fd and prints which timestamp control
// messages came, whether each is a sane time, and the flags.
static void stamps(const char *what, int fd) {
	union {
		char b[512];
		struct cmsghdr align;
	} c;
	char data[64];
	struct iovec iov = {data, sizeof data};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.b, .msg_controllen = sizeof c.b};
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	long r = recvmsg(fd, &m, 0);
	if (r < 0) {
		printf("%s: %s\n", what, errname(errno));
		return;
	}
	printf("%s: %ld bytes, flags %#x, controllen %zu:", what, r, m.msg_flags, (size_t)m.msg_controllen);
	for (struct cmsghdr *k = CMSG_FIRSTHDR(&m); k; k = CMSG_NXTHDR(&m, k)) {
		printf(" [level %d type %d len %zu", k->cmsg_level, k->cmsg_type, (size_t)k->cmsg_len);
		if (k->cmsg_level == SOL_SOCKET && k->cmsg_type == SO_TIMESTAMP) {
			struct timeval tv;
			memcpy(&tv, CMSG_DATA(k), sizeof tv);
			printf(" sane %d", tv.tv_sec >= now.tv_sec - 60 && tv.tv_sec <= now.tv_sec + 60 && tv.tv_usec < 1000000);
		} else if (k->cmsg_level == SOL_SOCKET && k->cmsg_type == SO_TIMESTAMPNS) {
			struct timespec ts;
			memcpy(&ts, CMSG_DATA(k), sizeof ts);
			printf(" sane %d", ts.tv_sec >= now.tv_sec - 60 && ts.tv_sec <= now.tv_sec + 60 && ts.tv_nsec < 1000000000);
		} else if (k->cmsg_level == SOL_SOCKET && k->cmsg_type == SO_TIMESTAMPING) {
			struct timespec ts[3];
			memcpy(ts, CMSG_DATA(k), sizeof ts);
			printf(" sane %d zero %d %d", ts[0].tv_sec >= now.tv_sec - 60 && ts[0].tv_sec <= now.tv_sec + 60,
			       ts[1].tv_sec == 0 && ts[1].tv_nsec == 0, ts[2].tv_sec == 0 && ts[2].tv_nsec == 0);
		}
		printf("]");
	}
	printf("\n");
}

static void timestamps(const struct kind *k) {
	static const struct {
		const char *name;
		int opt, v;
	} sets[] = {
		{"SO_TIMESTAMP", SO_TIMESTAMP, 1},
		{"SO_TIMESTAMPNS", SO_TIMESTAMPNS, 1},
		{"SO_TIMESTAMPING rx+sw", SO_TIMESTAMPING, SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE},
		{"SO_TIMESTAMPING rx only", SO_TIMESTAMPING, SOF_TIMESTAMPING_RX_SOFTWARE},
		{"SO_TIMESTAMP+NS", -1, 0},
	};
	char what[128];
	for (int i = 0; i < N(sets); i++) {
		int sv[2];
		if (pair(k, sv) < 0) {
			printf("%s pair: %s\n", k->name, errname(errno));
			return;
		}
		int v = sets[i].v;
		if (sets[i].opt < 0) {
			v = 1;
			setsockopt(sv[1], SOL_SOCKET, SO_TIMESTAMP, &v, sizeof v);
			setsockopt(sv[1], SOL_SOCKET, SO_TIMESTAMPNS, &v, sizeof v);
		} else {
			setsockopt(sv[1], SOL_SOCKET, sets[i].opt, &v, sizeof v);
		}
		send(sv[0], "stamp", 5, 0);
		snprintf(what, sizeof what, "%s %s recvmsg", k->name, sets[i].name);
		stamps(what, sv[1]);
		// Turned off again: no stamp on the next message.
		if (sets[i].opt > 0) {
			v = 0;
			setsockopt(sv[1], SOL_SOCKET, sets[i].opt, &v, sizeof v);
			send(sv[0], "plain", 5, 0);
			snprintf(what, sizeof what, "%s %s off recvmsg", k->name, sets[i].name);
			stamps(what, sv[1]);
		}
		close(sv[0]);
		close(sv[1]);
	}
	// A control buffer too small for the stamp.
	int sv[2];
	pair(k, sv);
	int v = 1;
	setsockopt(sv[1], SOL_SOCKET, SO_TIMESTAMPNS, &v, sizeof v);
	send(sv[0], "small", 5, 0);
	char cb[20], data[16];
	struct iovec iov = {data, sizeof data};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cb, .msg_controllen = sizeof cb};
	long r = recvmsg(sv[1], &m, 0);
	snprintf(what, sizeof what, "%s SO_TIMESTAMPNS 20-byte control", k->name);
	if (r < 0)
		printf("%s: %s\n", what, errname(errno));
	else
		printf("%s: %ld flags %#x controllen %zu\n", what, r, m.msg_flags, (size_t)m.msg_controllen);
	close(sv[0]);
	close(sv[1]);
}

// lowat shows SO_RCVLOWAT's effect on poll and a blocking receive on a
// stream.
static void lowat(const struct kind *k) {
	int sv[2];
	char what[128];
	if (pair(k, sv) < 0)
		return;
	int v = 1;
	if (isInet(k))
		setsockopt(sv[0], IPPROTO_TCP, TCP_NODELAY, &v, sizeof v);
	v = 8;
	snprintf(what, sizeof what, "%s SO_RCVLOWAT 8", k->name);
	show(what, setsockopt(sv[1], SOL_SOCKET, SO_RCVLOWAT, &v, sizeof v));
	send(sv[0], "abc", 3, 0);
	settle(sv[1], 3);
	struct pollfd p = {sv[1], POLLIN, 0};
	snprintf(what, sizeof what, "%s poll with 3 of 8", k->name);
	int r = poll(&p, 1, 0);
	printf("%s: %d revents %#x\n", what, r, p.revents);
	char b[64];
	snprintf(what, sizeof what, "%s recv DONTWAIT with 3 of 8", k->name);
	show(what, recv(sv[1], b, sizeof b, MSG_DONTWAIT));
	send(sv[0], "defghijk", 8, 0);
	settle(sv[1], 8);
	p.revents = 0;
	snprintf(what, sizeof what, "%s poll with 8 of 8", k->name);
	r = poll(&p, 1, 0);
	printf("%s: %d revents %#x\n", what, r, p.revents);
	v = 20;
	setsockopt(sv[1], SOL_SOCKET, SO_RCVLOWAT, &v, sizeof v);
	send(sv[0], "lmnop", 5, 0);
	settle(sv[1], 13);
	if (fork() == 0) {
		usleep(100000);
		send(sv[0], "qrstuvwxyz0123456789QRSTUVWXYZ", 30, 0);
		_exit(0);
	}
	// A blocking receive waits for SO_RCVLOWAT bytes (or the buffer's
	// size), then takes what is there, up to the buffer. (Linux's TCP
	// wakes the receiver when SO_RCVLOWAT bytes came after what it has
	// taken already: the 30 bytes make both ways 43.)
	snprintf(what, sizeof what, "%s blocking recv with 13 of 20", k->name);
	long n = recv(sv[1], b, sizeof b, 0);
	printf("%s: %ld\n", what, n);
	close(sv[0]);
	close(sv[1]);
	while (wait(NULL) > 0)
		;
}

// oob shows MSG_OOB on a stream: the mark, SIOCATMARK, reading the byte
// out of band and SO_OOBINLINE.
static void oob(const struct kind *k) {
	int sv[2];
	char what[128], b[64];
	int q;
	if (pair(k, sv) < 0)
		return;
	snprintf(what, sizeof what, "%s send OOB", k->name);
	show(what, send(sv[0], "abcX", 4, MSG_OOB));
	send(sv[0], "tail", 4, 0);
	settle(sv[1], 7);
	snprintf(what, sizeof what, "%s FIONREAD with OOB", k->name);
	q = -1;
	ioctl(sv[1], FIONREAD, &q);
	printf("%s: %d\n", what, q);
	snprintf(what, sizeof what, "%s SIOCATMARK before", k->name);
	q = -1;
	ioctl(sv[1], SIOCATMARK, &q);
	printf("%s: %d\n", what, q);
	struct pollfd p = {sv[1], POLLIN | POLLPRI, 0};
	poll(&p, 1, 0);
	printf("%s poll: revents %#x\n", k->name, p.revents);
	long n = recv(sv[1], b, sizeof b, 0);
	printf("%s recv: %ld \"%.*s\"\n", k->name, n, (int)(n > 0 ? n : 0), b);
	q = -1;
	ioctl(sv[1], SIOCATMARK, &q);
	printf("%s SIOCATMARK at mark: %d\n", k->name, q);
	n = recv(sv[1], b, sizeof b, MSG_OOB);
	printf("%s recv OOB: %ld \"%.*s\"\n", k->name, n, (int)(n > 0 ? n : 0), b);
	snprintf(what, sizeof what, "%s recv OOB again", k->name);
	show(what, recv(sv[1], b, sizeof b, MSG_OOB | MSG_DONTWAIT));
	n = recv(sv[1], b, sizeof b, MSG_DONTWAIT);
	printf("%s recv rest: %ld \"%.*s\"\n", k->name, n, (int)(n > 0 ? n : 0), b);
	// Two urgent sends: only the last byte stays out of band.
	send(sv[0], "12", 2, MSG_OOB);
	send(sv[0], "34", 2, MSG_OOB);
	settle(sv[1], 3);
	n = recv(sv[1], b, sizeof b, MSG_OOB);
	printf("%s two OOB sends, recv OOB: %ld \"%.*s\"\n", k->name, n, (int)(n > 0 ? n : 0), b);
	n = recv(sv[1], b, sizeof b, MSG_DONTWAIT);
	printf("%s then recv: %ld \"%.*s\"\n", k->name, n, (int)(n > 0 ? n : 0), b);
	// SO_OOBINLINE: the byte stays in the stream.
	int on = 1;
	snprintf(what, sizeof what, "%s SO_OOBINLINE", k->name);
	show(what, setsockopt(sv[1], SOL_SOCKET, SO_OOBINLINE, &on, sizeof on));
	send(sv[0], "xyZ", 3, MSG_OOB);
	send(sv[0], "w", 1, 0);
	settle(sv[1], 4);
	snprintf(what, sizeof what, "%s inline recv OOB", k->name);
	show(what, recv(sv[1], b, sizeof b, MSG_OOB | MSG_DONTWAIT));
	n = recv(sv[1], b, sizeof b, MSG_DONTWAIT);
	printf("%s inline recv: %ld \"%.*s\"\n", k->name, n, (int)(n > 0 ? n : 0), b);
	n = recv(sv[1], b, sizeof b, MSG_DONTWAIT);
	printf("%s inline recv again: %ld \"%.*s\"\n", k->name, n, (int)(n > 0 ? n : 0), b);
	snprintf(what, sizeof what, "%s recv OOB none", k->name);
	show(what, recv(sv[1], b, sizeof b, MSG_OOB | MSG_DONTWAIT));
	close(sv[0]);
	close(sv[1]);
}

static void oobOther(const struct kind *k) {
	int sv[2];
	char what[128], b[8];
	if (pair(k, sv) < 0)
		return;
	snprintf(what, sizeof what, "%s send OOB", k->name);
	show(what, send(sv[0], "x", 1, MSG_OOB));
	snprintf(what, sizeof what, "%s recv OOB", k->name);
	show(what, recv(sv[1], b, sizeof b, MSG_OOB | MSG_DONTWAIT));
	close(sv[0]);
	close(sv[1]);
}

// tcpConnected prints options of a connected TCP socket that do not
// depend on the host.
static void tcpConnected(const struct kind *k) {
	int sv[2];
	char what[128];
	if (pair(k, sv) < 0)
		return;
	struct tcp_info ti;
	socklen_t len = sizeof ti;
	memset(&ti, 0, sizeof ti);
	snprintf(what, sizeof what, "%s TCP_INFO", k->name);
	if (getsockopt(sv[0], IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
		printf("%s: %s\n", what, errname(errno));
	else
		printf("%s: len %u state %d ca_state %d retransmits %d probes %d backoff %d options %#x\n", what, len,
		       ti.tcpi_state, ti.tcpi_ca_state, ti.tcpi_retransmits, ti.tcpi_probes, ti.tcpi_backoff,
		       ti.tcpi_options);
	// A connection's reordering starts at tcp_reordering (3), or at a
	// larger one an earlier connection to the same address learnt
	// (tcp_metrics.c tcp_init_metrics), up to tcp_max_reordering (300):
	// on a host that has run other tests, native Linux gives 6 at times.
	if (getsockopt(sv[0], IPPROTO_TCP, TCP_INFO, &ti, &len) == 0)
		printf("%s TCP_INFO: pmtu %u reordering %s ssthresh %u\n", k->name, ti.tcpi_pmtu,
		       ti.tcpi_reordering >= 3 && ti.tcpi_reordering <= 300 ? "3-300" : "out of range",
		       ti.tcpi_snd_ssthresh);
	len = 8;
	snprintf(what, sizeof what, "%s TCP_INFO len 8", k->name);
	if (getsockopt(sv[0], IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
		printf("%s: %s\n", what, errname(errno));
	else
		printf("%s: len %u state %d\n", what, len, ti.tcpi_state);
	char cc[32] = {0};
	len = sizeof cc;
	strcpy(cc, "reno");
	snprintf(what, sizeof what, "%s TCP_CONGESTION set reno", k->name);
	show(what, setsockopt(sv[0], IPPROTO_TCP, TCP_CONGESTION, cc, strlen(cc)));
	memset(cc, 0, sizeof cc);
	snprintf(what, sizeof what, "%s TCP_CONGESTION get", k->name);
	if (getsockopt(sv[0], IPPROTO_TCP, TCP_CONGESTION, cc, &len) < 0)
		printf("%s: %s\n", what, errname(errno));
	else
		printf("%s: len %u \"%s\"\n", what, len, cc);
	snprintf(what, sizeof what, "%s TCP_CONGESTION set nosuch", k->name);
	show(what, setsockopt(sv[0], IPPROTO_TCP, TCP_CONGESTION, "nosuch", 6));
	if (k->family == AF_INET6) {
		getShow("connected IPV6_ADDRFORM", sv[0], IPPROTO_IPV6, IPV6_ADDRFORM, 4);
		getShow("connected IPV6_PATHMTU", sv[0], IPPROTO_IPV6, IPV6_PATHMTU, 64);
		getShow("connected IPV6_PATHMTU len 16", sv[0], IPPROTO_IPV6, IPV6_PATHMTU, 16);
	}
	getShow("connected SO_ERROR", sv[0], SOL_SOCKET, SO_ERROR, 4);

	getShow("connected SO_ACCEPTCONN", sv[1], SOL_SOCKET, SO_ACCEPTCONN, 4);
	close(sv[0]);
	close(sv[1]);
	int l = socket(k->family, SOCK_STREAM, 0);
	listen(l, 1);
	getShow("listening SO_ACCEPTCONN", l, SOL_SOCKET, SO_ACCEPTCONN, 4);
	memset(&ti, 0, sizeof ti);
	len = sizeof ti;
	snprintf(what, sizeof what, "%s TCP_INFO listening", k->name);
	if (getsockopt(l, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
		printf("%s: %s\n", what, errname(errno));
	else
		printf("%s: state %d rto %u snd_mss %u cwnd %u ssthresh %u reordering %u\n", what, ti.tcpi_state,
		       ti.tcpi_rto, ti.tcpi_snd_mss, ti.tcpi_snd_cwnd, ti.tcpi_snd_ssthresh, ti.tcpi_reordering);
	close(l);
	// Not yet connected: tcp_init_sock's values.
	l = socket(k->family, SOCK_STREAM, 0);
	memset(&ti, 0, sizeof ti);
	len = sizeof ti;
	getsockopt(l, IPPROTO_TCP, TCP_INFO, &ti, &len);
	printf("%s TCP_INFO new: state %d rto %u snd_mss %u cwnd %u ssthresh %u reordering %u app_limited %d\n",
	       k->name, ti.tcpi_state, ti.tcpi_rto, ti.tcpi_snd_mss, ti.tcpi_snd_cwnd, ti.tcpi_snd_ssthresh,
	       ti.tcpi_reordering, ((unsigned char *)&ti)[7] & 1);
	close(l);

}

static int getInt(int fd, int level, int name) {
	int v = -1;
	socklen_t len = sizeof v;
	if (getsockopt(fd, level, name, &v, &len) < 0)
		return -errno;
	return v;
}

// mssBufs checks TCP_MAXSEG and the send and receive buffers through a
// connection's life: tcp_wmem[1] and tcp_rmem[1] on a new socket (the
// defaults, 16384 and 131072), TCP_MAXSEG 0 clearing user_mss, a
// listener's user_mss inherited and bounding the accepted connection's
// MSS (less the 12 bytes of the timestamp option), a connection's MSS
// from the path (the exact figure Linux bounds by half the largest window
// the peer announced, which depends on timing), and the send buffer
// growing as the connection opens unless SO_SNDBUF fixed it.
static void mssBufs(const struct kind *k) {
	int fd = socket(k->family, SOCK_STREAM, 0), v;
	printf("%s new: SO_SNDBUF %d SO_RCVBUF %d TCP_MAXSEG %d\n", k->name, getInt(fd, SOL_SOCKET, SO_SNDBUF),
	       getInt(fd, SOL_SOCKET, SO_RCVBUF), getInt(fd, IPPROTO_TCP, TCP_MAXSEG));
	v = 1000;
	setsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &v, sizeof v);
	v = 0;
	int r = setsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &v, sizeof v);
	printf("%s TCP_MAXSEG 1000 then 0: %d, get %d\n", k->name, r, getInt(fd, IPPROTO_TCP, TCP_MAXSEG));
	close(fd);
	struct sockaddr_storage ss;
	socklen_t sl = loopbackAddr(k->family, &ss);
	int l = socket(k->family, SOCK_STREAM, 0);
	v = 1200;
	setsockopt(l, IPPROTO_TCP, TCP_MAXSEG, &v, sizeof v);
	if (bind(l, (void *)&ss, sl) < 0 || getsockname(l, (void *)&ss, &sl) < 0 || listen(l, 4) < 0) {
		printf("%s listener: %s\n", k->name, errname(errno));
		return;
	}
	printf("%s listening with TCP_MAXSEG 1200: %d\n", k->name, getInt(l, IPPROTO_TCP, TCP_MAXSEG));
	int c = socket(k->family, SOCK_STREAM, 0);
	if (connect(c, (void *)&ss, sl) < 0) {
		printf("%s connect: %s\n", k->name, errname(errno));
		return;
	}
	int a = accept(l, NULL, NULL);
	printf("%s accepted from a listener with TCP_MAXSEG 1200: TCP_MAXSEG %d\n", k->name,
	       getInt(a, IPPROTO_TCP, TCP_MAXSEG));
	close(a);
	close(c);
	close(l);
	// A listener without user_mss; a client whose SO_SNDBUF is fixed.
	l = socket(k->family, SOCK_STREAM, 0);
	((struct sockaddr_in *)&ss)->sin_port = 0;
	if (bind(l, (void *)&ss, sl) < 0 || getsockname(l, (void *)&ss, &sl) < 0 || listen(l, 4) < 0) {
		printf("%s listener: %s\n", k->name, errname(errno));
		return;
	}
	c = socket(k->family, SOCK_STREAM, 0);
	int fixed = socket(k->family, SOCK_STREAM, 0);
	v = 20000;
	setsockopt(fixed, SOL_SOCKET, SO_SNDBUF, &v, sizeof v);
	if (connect(c, (void *)&ss, sl) < 0 || connect(fixed, (void *)&ss, sl) < 0) {
		printf("%s connect: %s\n", k->name, errname(errno));
		return;
	}
	a = accept(l, NULL, NULL);
	int mss = getInt(c, IPPROTO_TCP, TCP_MAXSEG), amss = getInt(a, IPPROTO_TCP, TCP_MAXSEG);
	int most = k->family == AF_INET ? 65483 : 65464;
	printf("%s connected TCP_MAXSEG above 1220 and at most %d: %d %d\n", k->name, most, mss > 1220 && mss <= most,
	       amss > 1220 && amss <= most);
	v = 500;
	r = setsockopt(c, IPPROTO_TCP, TCP_MAXSEG, &v, sizeof v);
	printf("%s connected, set TCP_MAXSEG 500: %d, unchanged %d\n", k->name, r, getInt(c, IPPROTO_TCP, TCP_MAXSEG) == mss);
	printf("%s connected SO_SNDBUF grown: %d %d, SO_RCVBUF %d\n", k->name, getInt(c, SOL_SOCKET, SO_SNDBUF) > 16384,
	       getInt(a, SOL_SOCKET, SO_SNDBUF) > 16384, getInt(c, SOL_SOCKET, SO_RCVBUF));
	printf("%s connected with SO_SNDBUF 20000: %d\n", k->name, getInt(fixed, SOL_SOCKET, SO_SNDBUF));
	close(a);
	close(c);
	close(fixed);
	close(l);
}

// attach attaches the n instructions of f to fd as SO_ATTACH_FILTER.
static int attach(int fd, struct sock_filter *f, int n) {
	struct sock_fprog p = {n, f};
	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &p, sizeof p);
}

// filtered sends each of the messages to sv[1], whose filter is f, and
// prints what arrives.
static void filtered(const struct kind *k, const char *label, int sv[2], struct sock_filter *f, int n) {
	char what[160], buf[64];
	snprintf(what, sizeof what, "%s filter %s: attach", k->name, label);
	show(what, attach(sv[1], f, n));
	const char *msgs[] = {"abc", "xyz", "ax"};
	for (int i = 0; i < 3; i++) {
		long r = send(sv[0], msgs[i], strlen(msgs[i]), 0);
		printf("%s filter %s: send %s: %ld\n", k->name, label, msgs[i], r);
	}
	for (;;) {
		long r = recv(sv[1], buf, sizeof buf - 1, MSG_DONTWAIT);
		if (r < 0) {
			printf("%s filter %s: recv %s\n", k->name, label, errname(errno));
			break;
		}
		buf[r] = 0;
		printf("%s filter %s: recv %ld \"%s\"\n", k->name, label, r, buf);
		if (k->type == SOCK_STREAM)
			break;
	}
	show("detach", setsockopt(sv[1], SOL_SOCKET, SO_DETACH_FILTER, &n, sizeof n));
}

// filters checks SO_ATTACH_FILTER's classic BPF: the programs
// bpf_check_classic refuses, SO_GET_FILTER, SO_DETACH_FILTER,
// SO_LOCK_FILTER, and the verdicts of programs on AF_UNIX datagrams and
// records (a stream takes a filter and does not run it). Cocoon's
// internet sockets refuse a valid program (their receive paths do not run
// one), so only the refusals are compared there.
static void filters(const struct kind *k) {
	char what[160];
	int fd = socket(k->family, k->type, 0), v = 0;
	struct {
		const char *name;
		struct sock_filter f[4];
		int n;
	} bad[] = {
		{"no ret", {BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0)}, 1},
		{"div 0", {BPF_STMT(BPF_ALU | BPF_DIV | BPF_K, 0), BPF_STMT(BPF_RET | BPF_A, 0)}, 2},
		{"lsh 32", {BPF_STMT(BPF_ALU | BPF_LSH | BPF_K, 32), BPF_STMT(BPF_RET | BPF_A, 0)}, 2},
		{"unknown code", {BPF_STMT(0x0e, 0), BPF_STMT(BPF_RET | BPF_K, 0)}, 2},
		{"M[16]", {BPF_STMT(BPF_ST, 16), BPF_STMT(BPF_RET | BPF_K, 0)}, 2},
		{"M[1] unset", {BPF_STMT(BPF_LD | BPF_MEM, 1), BPF_STMT(BPF_RET | BPF_A, 0)}, 2},
		{"jeq out", {BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1), BPF_STMT(BPF_RET | BPF_K, 0)}, 2},
		{"ja out", {BPF_JUMP(BPF_JMP | BPF_JA, 1, 0, 0), BPF_STMT(BPF_RET | BPF_K, 0)}, 2},
		{"ancillary 64", {BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + 64), BPF_STMT(BPF_RET | BPF_A, 0)}, 2},
		{"ancillary 2", {BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + 2), BPF_STMT(BPF_RET | BPF_A, 0)}, 2},
	};
	for (int i = 0; i < N(bad); i++) {
		snprintf(what, sizeof what, "%s SO_ATTACH_FILTER %s", k->name, bad[i].name);
		show(what, attach(fd, bad[i].f, bad[i].n));
	}
	static struct sock_filter many[4097];
	for (int i = 0; i < 4097; i++)
		many[i] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0);
	snprintf(what, sizeof what, "%s SO_ATTACH_FILTER 4097", k->name);
	show(what, attach(fd, many, 4097));
	snprintf(what, sizeof what, "%s SO_ATTACH_FILTER bad pointer", k->name);
	show(what, attach(fd, (struct sock_filter *)8, 1));
	if (isInet(k)) {
		close(fd);
		return;
	}
	snprintf(what, sizeof what, "%s SO_ATTACH_FILTER 4096", k->name);
	show(what, attach(fd, many, 4096));
	struct sock_filter got[8];
	socklen_t len = 0;
	snprintf(what, sizeof what, "%s SO_GET_FILTER len 0", k->name);
	show(what, getsockopt(fd, SOL_SOCKET, SO_GET_FILTER, got, &len));
	printf("%s SO_GET_FILTER len 0: %u\n", k->name, len);
	len = 8;
	snprintf(what, sizeof what, "%s SO_GET_FILTER len 8 of 4096", k->name);
	show(what, getsockopt(fd, SOL_SOCKET, SO_GET_FILTER, got, &len));
	struct sock_filter two[] = {BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0), BPF_STMT(BPF_RET | BPF_A, 0)};
	attach(fd, two, 2);
	len = sizeof got;
	memset(got, 0, sizeof got);
	snprintf(what, sizeof what, "%s SO_GET_FILTER", k->name);
	show(what, getsockopt(fd, SOL_SOCKET, SO_GET_FILTER, got, &len));
	printf("%s SO_GET_FILTER: len %u: %#x %#x %#x\n", k->name, len, got[0].code, got[1].code, got[1].k);
	snprintf(what, sizeof what, "%s SO_DETACH_FILTER", k->name);
	show(what, setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, &v, sizeof v));
	snprintf(what, sizeof what, "%s SO_DETACH_FILTER again", k->name);
	show(what, setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, &v, sizeof v));
	len = sizeof got;
	snprintf(what, sizeof what, "%s SO_GET_FILTER none", k->name);
	show(what, getsockopt(fd, SOL_SOCKET, SO_GET_FILTER, got, &len));
	printf("%s SO_GET_FILTER none: len %u\n", k->name, len);
	attach(fd, two, 2);
	v = 1;
	setsockopt(fd, SOL_SOCKET, SO_LOCK_FILTER, &v, sizeof v);
	snprintf(what, sizeof what, "%s locked: SO_DETACH_FILTER", k->name);
	show(what, setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, &v, sizeof v));
	snprintf(what, sizeof what, "%s locked: SO_ATTACH_FILTER", k->name);
	show(what, attach(fd, two, 2));
	close(fd);

	int sv[2];
	if (socketpair(AF_UNIX, k->type, 0, sv) < 0)
		return;
	struct sock_filter cut[] = {BPF_STMT(BPF_RET | BPF_K, 2)};
	filtered(k, "ret 2", sv, cut, 1);
	struct sock_filter none[] = {BPF_STMT(BPF_RET | BPF_K, 0)};
	filtered(k, "ret 0", sv, none, 1);
	struct sock_filter firstA[] = {
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 'a', 0, 1),
		BPF_STMT(BPF_RET | BPF_K, 0xffff),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	filtered(k, "first byte a", sv, firstA, 4);
	struct sock_filter beyond[] = {BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 2), BPF_STMT(BPF_RET | BPF_K, 0xffff)};
	filtered(k, "load at 2", sv, beyond, 2);
	struct sock_filter proto[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_PROTOCOL),
		BPF_STMT(BPF_ALU | BPF_ADD | BPF_K, 1),
		BPF_STMT(BPF_RET | BPF_A, 0),
	};
	filtered(k, "protocol+1", sv, proto, 3);
	struct sock_filter ifx[] = {BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_IFINDEX),
				    BPF_STMT(BPF_RET | BPF_K, 0xffff)};
	filtered(k, "ifindex", sv, ifx, 2);
	struct sock_filter divx[] = {BPF_STMT(BPF_LDX | BPF_IMM, 0), BPF_STMT(BPF_ALU | BPF_DIV | BPF_X, 0),
				     BPF_STMT(BPF_RET | BPF_K, 0xffff)};
	filtered(k, "div by X 0", sv, divx, 3);
	struct sock_filter mem[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0), BPF_STMT(BPF_ST, 3),	 BPF_STMT(BPF_LDX | BPF_MEM, 3),
		BPF_STMT(BPF_ALU | BPF_SUB | BPF_X, 0), BPF_STMT(BPF_ALU | BPF_ADD | BPF_K, 1), BPF_STMT(BPF_RET | BPF_A, 0),
	};
	filtered(k, "memory", sv, mem, 6);
	close(sv[0]);
	close(sv[1]);
}

// stampsOn turns the kernel's receive timestamps on and keeps them on:
// Linux stamps arriving packets only while some socket asks
// (net_enable_timestamp), and turns that on from a work queue, later; a
// TCP read reports only a packet's own stamp. A UDP pair asking for
// software receive stamps stays open, and a probe goes through it until
// one comes back stamped.
static int stampsOn(void) {
	static const struct kind udp = {"udp4", AF_INET, SOCK_DGRAM};
	int sv[2];
	if (pair(&udp, sv) < 0)
		return 0;
	int v = SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE;
	setsockopt(sv[1], SOL_SOCKET, SO_TIMESTAMPING, &v, sizeof v);
	for (int i = 0; i < 3000; i++) {
		union {
			char b[256];
			struct cmsghdr align;
		} c;
		char data[8];
		struct iovec iov = {data, sizeof data};
		struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.b, .msg_controllen = sizeof c.b};
		send(sv[0], "probe", 5, 0);
		if (recvmsg(sv[1], &m, 0) > 0 && CMSG_FIRSTHDR(&m))
			return 1;
		usleep(10000);
	}
	return 0;
}

int main(void) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("receive timestamps on: %d\n", stampsOn());
	for (int i = 0; i < NKINDS; i++)
		sweepSol(&kinds[i]);
	for (int i = 0; i < NKINDS; i++) {
		const struct kind *k = &kinds[i];
		if (isInet(k) && k->type == SOCK_STREAM)
			sweepOpts(k, "TCP", tcpOpts, N(tcpOpts));
		if (isInet(k))
			sweepOpts(k, "IP", ipOpts, N(ipOpts));
		if (isInet(k) && k->type == SOCK_DGRAM)
			sweepOpts(k, "UDP", udpOpts, N(udpOpts));

		if (k->family == AF_INET6)
			sweepOpts(k, "IPV6", ip6Opts, N(ip6Opts));
	}
	for (int i = 0; i < NKINDS; i++)
		roundTrips(&kinds[i]);
	for (int i = 0; i < NKINDS; i++)
		badArgs(&kinds[i]);
	for (int i = 0; i < NKINDS; i++)
		ioctls(&kinds[i]);
	ifioctls(&kinds[0]);
	ifioctls(&kinds[4]);
	for (int i = 0; i < NKINDS; i++)
		timestamps(&kinds[i]);
	for (int i = 0; i < NKINDS; i++)
		if (kinds[i].type == SOCK_STREAM)
			lowat(&kinds[i]);
	// MSG_OOB on AF_UNIX sockets (Cocoon's TCP has no urgent data).
	for (int i = 0; i < NKINDS; i++) {
		if (isInet(&kinds[i]))
			continue;
		if (kinds[i].type == SOCK_STREAM)
			oob(&kinds[i]);
		else
			oobOther(&kinds[i]);
	}
	tcpConnected(&kinds[0]);
	tcpConnected(&kinds[2]);
	mssBufs(&kinds[0]);
	mssBufs(&kinds[2]);
	for (int i = 0; i < NKINDS; i++)
		filters(&kinds[i]);
	for (int i = 0; i < NKINDS; i++)
		extras(&kinds[i]);
	ipCmsgs(&kinds[1]);
	ipCmsgs(&kinds[3]);
	tcpInq(&kinds[0]);
	tcpInq(&kinds[2]);
	inherited(&kinds[0]);
	inherited(&kinds[2]);
	for (int i = 0; i < 4; i++)
		sendCmsgs(&kinds[i]);
	for (int i = 0; i < 4; i++)
		multicast(&kinds[i]);
	for (int i = 0; i < NKINDS; i++)
		moreIoctls(&kinds[i]);
	for (int i = 0; i < NKINDS; i++)
		errQueue(&kinds[i]);
	for (int i = 0; i < NKINDS; i++)
		if (kinds[i].type == SOCK_STREAM)
			peekOff(&kinds[i]);





	printf("sockopt: done\n");
	return 0;
}
