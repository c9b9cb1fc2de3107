// netc: a static C program using sockets the way C clients and servers
// do (getaddrinfo, non-blocking connect, poll, SO_ERROR, accept4, UDP,
// AF_UNIX with SCM_RIGHTS). It prints only what Linux makes the same on
// every run, so its output inside Cocoon must equal Linux's.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

static int fails;

#define CHECK(cond, ...)                                    \
	do {                                                    \
		if (!(cond)) {                                      \
			printf("netc: FAIL line %d: ", __LINE__);       \
			printf(__VA_ARGS__);                            \
			printf(" (errno %d %s)\n", errno, strerror(errno)); \
			fails++;                                        \
		}                                                   \
	} while (0)

// resolve returns the first address getaddrinfo gives for host:port.
static struct addrinfo *resolve(const char *host, const char *port, int type, int passive) {
	struct addrinfo hints = {0}, *res = NULL;
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = type;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
	int r = getaddrinfo(host, port, &hints, &res);
	CHECK(r == 0, "getaddrinfo(%s, %s) = %s", host, port, gai_strerror(r));
	return res;
}

static void portof(int fd, char *buf, size_t n) {
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	CHECK(getsockname(fd, (struct sockaddr *)&ss, &len) == 0, "getsockname");
	int port = ss.ss_family == AF_INET ? ntohs(((struct sockaddr_in *)&ss)->sin_port)
	                                   : ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	snprintf(buf, n, "%d", port);
}

static void tcp(const char *host) {
	struct addrinfo *ai = resolve(host, "0", SOCK_STREAM, 1);
	if (!ai) return;
	int l = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	CHECK(setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0, "SO_REUSEADDR");
	CHECK(bind(l, ai->ai_addr, ai->ai_addrlen) == 0, "bind");
	CHECK(listen(l, 8) == 0, "listen");
	char port[16];
	portof(l, port, sizeof port);
	freeaddrinfo(ai);

	ai = resolve(host, port, SOCK_STREAM, 0);
	int c = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int r = connect(c, ai->ai_addr, ai->ai_addrlen);
	CHECK(r == 0 || errno == EINPROGRESS, "connect");
	freeaddrinfo(ai);
	struct pollfd p = {.fd = c, .events = POLLOUT};
	CHECK(poll(&p, 1, 10000) == 1 && (p.revents & POLLOUT), "poll for the connection");
	int err = -1;
	socklen_t len = sizeof err;
	CHECK(getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0, "SO_ERROR %d", err);
	CHECK(setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0, "TCP_NODELAY");
	int s = accept4(l, NULL, NULL, SOCK_NONBLOCK);
	CHECK(s >= 0, "accept4");

	CHECK(write(c, "ping", 4) == 4, "write");
	p = (struct pollfd){.fd = s, .events = POLLIN};
	CHECK(poll(&p, 1, 10000) == 1 && (p.revents & POLLIN), "poll for data");
	int avail = 0;
	CHECK(ioctl(s, FIONREAD, &avail) == 0, "FIONREAD");
	char buf[16] = {0};
	CHECK(read(s, buf, sizeof buf) == 4, "read");
	printf("netc: tcp %s: got %s, FIONREAD said %d\n", host, buf, avail);

	CHECK(read(s, buf, sizeof buf) == -1 && errno == EAGAIN, "empty non-blocking read");
	close(c);
	p = (struct pollfd){.fd = s, .events = POLLIN};
	CHECK(poll(&p, 1, 10000) == 1, "poll for the end");
	CHECK(read(s, buf, sizeof buf) == 0, "read at the end");
	signal(SIGPIPE, SIG_IGN);
	ssize_t w = 0;
	for (int i = 0; i < 100 && w >= 0; i++) {
		w = write(s, "x", 1);
		usleep(1000);
	}
	printf("netc: tcp %s: write to a closed peer: %s\n", host, w < 0 ? strerrorname_np(errno) : "ok");
	close(s);

	// Refused: the listener is gone.
	close(l);
	ai = resolve(host, port, SOCK_STREAM, 0);
	c = socket(ai->ai_family, SOCK_STREAM, 0);
	r = connect(c, ai->ai_addr, ai->ai_addrlen);
	printf("netc: tcp %s: connect to a closed port: %s\n", host, r < 0 ? strerrorname_np(errno) : "ok");
	freeaddrinfo(ai);
	close(c);
}

static void udp(void) {
	struct addrinfo *ai = resolve("127.0.0.1", "0", SOCK_DGRAM, 1);
	int a = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK(bind(a, ai->ai_addr, ai->ai_addrlen) == 0, "bind");
	freeaddrinfo(ai);
	char port[16];
	portof(a, port, sizeof port);
	ai = resolve("127.0.0.1", port, SOCK_DGRAM, 0);
	int b = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK(sendto(b, "datagram", 8, 0, ai->ai_addr, ai->ai_addrlen) == 8, "sendto");
	freeaddrinfo(ai);
	struct pollfd p = {.fd = a, .events = POLLIN};
	CHECK(poll(&p, 1, 10000) == 1, "poll");
	char buf[4];
	ssize_t n = recv(a, buf, sizeof buf, MSG_TRUNC);
	printf("netc: udp: recv(MSG_TRUNC) into 4 bytes = %zd\n", n);
}

static void unixrights(void) {
	int sv[2], pfd[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
	CHECK(pipe(pfd) == 0, "pipe");
	CHECK(write(pfd[1], "through", 7) == 7, "write");
	close(pfd[1]);
	char cbuf[CMSG_SPACE(sizeof(int))] = {0};
	struct iovec iov = {.iov_base = "x", .iov_len = 1};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &pfd[0], sizeof(int));
	CHECK(sendmsg(sv[0], &m, 0) == 1, "sendmsg");
	close(pfd[0]);
	char d;
	char rbuf[CMSG_SPACE(sizeof(int))] = {0};
	struct iovec riov = {.iov_base = &d, .iov_len = 1};
	struct msghdr rm = {.msg_iov = &riov, .msg_iovlen = 1, .msg_control = rbuf, .msg_controllen = sizeof rbuf};
	CHECK(recvmsg(sv[1], &rm, 0) == 1, "recvmsg");
	struct cmsghdr *rc = CMSG_FIRSTHDR(&rm);
	CHECK(rc && rc->cmsg_type == SCM_RIGHTS, "no SCM_RIGHTS");
	if (!rc) return;
	int fd;
	memcpy(&fd, CMSG_DATA(rc), sizeof fd);
	char buf[16] = {0};
	CHECK(read(fd, buf, sizeof buf) == 7, "read through the passed fd");
	printf("netc: unix: read %s through the passed descriptor\n", buf);
}

// rtdump sends an rtnetlink dump request of type typ for family and
// calls each for every message of the reply; it returns the NLMSG_ERROR
// errno, or 0 when the dump ended with NLMSG_DONE.
static int rtdump(int typ, int family, void (*each)(struct nlmsghdr *, void *), void *arg) {
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	CHECK(fd >= 0, "socket(AF_NETLINK)");
	struct {
		struct nlmsghdr h;
		struct rtgenmsg g;
	} req = {{sizeof req, typ, NLM_F_REQUEST | NLM_F_DUMP, 1, 0}, {family}};
	CHECK(send(fd, &req, sizeof req, 0) == sizeof req, "send dump request");
	static char buf[1 << 16];
	int ret = -1;
	while (ret < 0) {
		ssize_t n = recv(fd, buf, sizeof buf, 0);
		CHECK(n > 0, "recv dump");
		if (n <= 0)
			break;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_DONE) {
				ret = 0;
				break;
			}
			if (h->nlmsg_type == NLMSG_ERROR) {
				ret = -((struct nlmsgerr *)NLMSG_DATA(h))->error;
				break;
			}
			each(h, arg);
		}
	}
	close(fd);
	return ret;
}

// getlink asks for one interface (RTM_GETLINK without NLM_F_DUMP, with
// NLM_F_ACK), by index or by name, and describes the replies.
static const char *getlink(int index, const char *name) {
	static char out[256];
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	struct {
		struct nlmsghdr h;
		struct ifinfomsg i;
		char attrs[32];
	} req = {{NLMSG_LENGTH(sizeof(struct ifinfomsg)), RTM_GETLINK, NLM_F_REQUEST | NLM_F_ACK, 9, 0}, {.ifi_index = index}};
	if (name) {
		struct rtattr *a = (struct rtattr *)req.attrs;
		a->rta_type = IFLA_IFNAME;
		a->rta_len = RTA_LENGTH(strlen(name) + 1);
		strcpy(RTA_DATA(a), name);
		req.h.nlmsg_len += RTA_ALIGN(a->rta_len);
	}
	CHECK(send(fd, &req, req.h.nlmsg_len, 0) == (ssize_t)req.h.nlmsg_len, "send RTM_GETLINK");
	out[0] = 0;
	for (int done = 0; !done;) {
		static char buf[1 << 16];
		ssize_t n = recv(fd, buf, sizeof buf, 0);
		CHECK(n > 0, "recv RTM_GETLINK");
		if (n <= 0)
			break;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
			char one[64];
			if (h->nlmsg_type == NLMSG_ERROR) {
				snprintf(one, sizeof one, "[error %d seq %u]", ((struct nlmsgerr *)NLMSG_DATA(h))->error, h->nlmsg_seq);
				done = 1;
			} else if (h->nlmsg_type == RTM_NEWLINK) {
				struct ifinfomsg *ifi = NLMSG_DATA(h);
				int len = IFLA_PAYLOAD(h);
				const char *nm = "?";
				for (struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len))
					if (a->rta_type == IFLA_IFNAME)
						nm = RTA_DATA(a);
				snprintf(one, sizeof one, "[link %s, index ok %d, multi %d]", nm, ifi->ifi_index == (int)if_nametoindex("lo"), !!(h->nlmsg_flags & NLM_F_MULTI));
			} else {
				snprintf(one, sizeof one, "[type %d]", h->nlmsg_type);
			}
			strncat(out, one, sizeof out - strlen(out) - 1);
		}
	}
	close(fd);
	return out;
}

struct lostats {
	unsigned long long rx64, tx64, rxbytes64;
	unsigned rx32, tx32;
	int found;
};

static void lolink(struct nlmsghdr *h, void *arg) {
	struct lostats *st = arg;
	struct ifinfomsg *ifi = NLMSG_DATA(h);
	int len = IFLA_PAYLOAD(h), lo = 0;
	struct rtnl_link_stats64 s64;
	struct rtnl_link_stats s32;
	int have64 = 0, have32 = 0;
	for (struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == IFLA_IFNAME && strcmp(RTA_DATA(a), "lo") == 0)
			lo = 1;
		if (a->rta_type == IFLA_STATS64 && RTA_PAYLOAD(a) >= sizeof s64) {
			memcpy(&s64, RTA_DATA(a), sizeof s64);
			have64 = 1;
		}
		if (a->rta_type == IFLA_STATS && RTA_PAYLOAD(a) >= sizeof s32) {
			memcpy(&s32, RTA_DATA(a), sizeof s32);
			have32 = 1;
		}
	}
	if (!lo)
		return;
	st->found = 1 + have64 + 2 * have32;
	if (have64)
		st->rx64 = s64.rx_packets, st->tx64 = s64.tx_packets, st->rxbytes64 = s64.rx_bytes;
	if (have32)
		st->rx32 = s32.rx_packets, st->tx32 = s32.tx_packets;
}

static void neigh(struct nlmsghdr *h, void *arg) {
	struct ndmsg *nd = NLMSG_DATA(h);
	if (h->nlmsg_type != RTM_NEWNEIGH || nd->ndm_family != AF_INET)
		++*(int *)arg;
}

// procdev returns lo's received and sent packets from /proc/net/dev, and
// its received bytes.
static void procdev(unsigned long long *rx, unsigned long long *tx, unsigned long long *rxbytes) {
	FILE *f = fopen("/proc/net/dev", "r");
	CHECK(f != NULL, "open /proc/net/dev");
	if (!f)
		return;
	char line[512];
	while (fgets(line, sizeof line, f)) {
		char name[32];
		unsigned long long v[16];
		if (sscanf(line, " %31[^:]: %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", name, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]) == 11 && strcmp(name, "lo") == 0)
			*rxbytes = v[0], *rx = v[1], *tx = v[9];
	}
	fclose(f);
}

// snmp returns field of table in /proc/net/snmp (net/ipv4/proc.c
// snmp_seq_show: a line of names, then one of values), -1 if there is
// none; with print, it prints each table's names and whether its values
// line has as many fields.
static long long snmpIn(const char *file, const char *table, const char *field, int print) {
	FILE *f = fopen(file, "r");
	CHECK(f != NULL, "open %s", file);
	if (!f)
		return -1;
	static char names[8192], values[8192];
	long long found = -1;
	size_t tl = strlen(table);
	while (fgets(names, sizeof names, f) && fgets(values, sizeof values, f)) {
		int nn = 0, nv = 0;
		for (char *p = names; *p; p++)
			nn += *p == ' ';
		for (char *p = values; *p; p++)
			nv += *p == ' ';
		int same = nn == nv && strncmp(names, values, strchr(names, ':') - names + 1) == 0;
		// Which ICMP types were counted is the machine's, as is MPTCP;
		// netstat's columns are many, and more in each Linux.
		if (print == 1 && strncmp(names, "IcmpMsg:", 8) != 0)
			printf("netc: %s %s%s", file, same ? "" : "(values do not match) ", names);
		if (print == 2 && (strncmp(names, "TcpExt:", 7) == 0 || strncmp(names, "IpExt:", 6) == 0))
			printf("netc: %s %.*s values match: %d\n", file, (int)(strchr(names, ':') - names), names, same);
		if (strncmp(names, table, tl) != 0 || names[tl] != ':')
			continue;
		char *n = names + tl + 1, *v = values + tl + 1;
		for (;;) {
			size_t l = strcspn(n + 1, " \n");
			if (l == strlen(field) && strncmp(n + 1, field, l) == 0) {
				found = strtoll(v + 1, NULL, 10);
				break;
			}
			n = strchr(n + 1, ' ');
			v = strchr(v + 1, ' ');
			if (!n || !v)
				break;
		}
	}
	fclose(f);
	return found;
}

static long long snmp(const char *table, const char *field, int print) { return snmpIn("/proc/net/snmp", table, field, print); }

// procnet reads /proc/net as ifconfig, route and gopsutil do: its
// headers, lo's counters around 20 datagrams, lo's IPv6 address.
static void procnet(void) {
	char buf[256] = "";
	ssize_t n = readlink("/proc/net", buf, sizeof buf - 1);
	printf("netc: /proc/net -> %.*s\n", (int)(n > 0 ? n : 0), buf);
	const char *files[] = {"/proc/net/dev", "/proc/net/route", "/proc/self/net/dev"};
	for (int i = 0; i < 3; i++) {
		FILE *f = fopen(files[i], "r");
		CHECK(f != NULL, "open %s", files[i]);
		if (!f)
			continue;
		char line[512];
		printf("netc: %s starts: %s", files[i], fgets(line, sizeof line, f) ? line : "(nothing)\n");
		fclose(f);
	}
	unsigned long long rx0 = 0, tx0 = 0, b0 = 0, rx1 = 0, tx1 = 0, b1 = 0;
	procdev(&rx0, &tx0, &b0);
	long long udpIn = snmp("Udp", "InDatagrams", 1), udpOut = snmp("Udp", "OutDatagrams", 0), ipIn = snmp("Ip", "InReceives", 0),
		  ipDel = snmp("Ip", "InDelivers", 0), ipOut = snmp("Ip", "OutRequests", 0);
	printf("netc: /proc/net/netstat TcpExt ListenOverflows, IpExt InOctets there: %d %d\n",
		snmpIn("/proc/net/netstat", "TcpExt", "ListenOverflows", 2) >= 0, snmpIn("/proc/net/netstat", "IpExt", "InOctets", 0) >= 0);
	// Not Forwarding: a host with containers forwards.
	printf("netc: /proc/net/snmp Ip DefaultTTL, Tcp RtoAlgorithm, RtoMin, RtoMax, MaxConn: %lld %lld %lld %lld %lld\n",
		snmp("Ip", "DefaultTTL", 0), snmp("Tcp", "RtoAlgorithm", 0), snmp("Tcp", "RtoMin", 0),
		snmp("Tcp", "RtoMax", 0), snmp("Tcp", "MaxConn", 0));
	int a = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof sin;
	CHECK(bind(a, (struct sockaddr *)&sin, sizeof sin) == 0 && getsockname(a, (struct sockaddr *)&sin, &len) == 0, "bind");
	int b = socket(AF_INET, SOCK_DGRAM, 0);
	char d[100] = {0};
	for (int i = 0; i < 20; i++) {
		CHECK(sendto(b, d, sizeof d, 0, (struct sockaddr *)&sin, sizeof sin) == sizeof d, "sendto");
		CHECK(recv(a, d, sizeof d, 0) == sizeof d, "recv");
	}
	close(a);
	close(b);
	procdev(&rx1, &tx1, &b1);
	printf("netc: /proc/net/dev lo rx, tx packets and rx bytes grew by >= 20, 20, 2000: %d %d %d\n", rx1 - rx0 >= 20, tx1 - tx0 >= 20, b1 - b0 >= 2000);
	printf("netc: /proc/net/snmp Udp InDatagrams, OutDatagrams, Ip InReceives, InDelivers, OutRequests grew by >= 20: %d %d %d %d %d\n",
		snmp("Udp", "InDatagrams", 0) - udpIn >= 20, snmp("Udp", "OutDatagrams", 0) - udpOut >= 20, snmp("Ip", "InReceives", 0) - ipIn >= 20,
		snmp("Ip", "InDelivers", 0) - ipDel >= 20, snmp("Ip", "OutRequests", 0) - ipOut >= 20);
	FILE *f = fopen("/proc/net/if_inet6", "r");
	int lo6 = 0;
	char line[256];
	while (f && fgets(line, sizeof line, f))
		lo6 |= strcmp(line, "00000000000000000000000000000001 01 80 10 80       lo\n") == 0;
	if (f)
		fclose(f);
	printf("netc: /proc/net/if_inet6 has lo's ::1: %d\n", lo6);
}

// rtnetlink dumps lo's counters (IFLA_STATS64 and IFLA_STATS, which
// 'ip -s link' and node_exporter read) around 20 datagrams over
// loopback, and the IPv4 neighbour table (RTM_GETNEIGH, 'ip neigh').
static void rtnetlink(void) {
	struct lostats before = {0}, after = {0};
	CHECK(rtdump(RTM_GETLINK, AF_UNSPEC, lolink, &before) == 0, "RTM_GETLINK dump");
	int a = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof sin;
	CHECK(bind(a, (struct sockaddr *)&sin, sizeof sin) == 0 && getsockname(a, (struct sockaddr *)&sin, &len) == 0, "bind");
	int b = socket(AF_INET, SOCK_DGRAM, 0);
	char buf[100] = {0};
	for (int i = 0; i < 20; i++) {
		CHECK(sendto(b, buf, sizeof buf, 0, (struct sockaddr *)&sin, sizeof sin) == sizeof buf, "sendto");
		CHECK(recv(a, buf, sizeof buf, 0) == sizeof buf, "recv");
	}
	close(a);
	close(b);
	CHECK(rtdump(RTM_GETLINK, AF_UNSPEC, lolink, &after) == 0, "RTM_GETLINK dump");
	printf("netc: lo: found, with IFLA_STATS64 and IFLA_STATS: %d\n", after.found);
	printf("netc: lo: IFLA_STATS64 rx, tx packets and rx bytes grew by >= 20, 20, 2000: %d %d %d\n",
	       after.rx64 - before.rx64 >= 20, after.tx64 - before.tx64 >= 20, after.rxbytes64 - before.rxbytes64 >= 2000);
	printf("netc: lo: IFLA_STATS rx, tx packets grew by >= 20: %d %d\n", after.rx32 - before.rx32 >= 20, after.tx32 - before.tx32 >= 20);
	printf("netc: RTM_GETLINK of lo by index: %s\n", getlink(if_nametoindex("lo"), NULL));
	printf("netc: RTM_GETLINK of lo by name: %s\n", getlink(0, "lo"));
	printf("netc: RTM_GETLINK of index 99999: %s\n", getlink(99999, NULL));
	printf("netc: RTM_GETLINK of neither: %s\n", getlink(0, NULL));
	int odd = 0;
	int r = rtdump(RTM_GETNEIGH, AF_INET, neigh, &odd);
	printf("netc: RTM_GETNEIGH AF_INET dump: error %d, messages not RTM_NEWNEIGH AF_INET: %d\n", r, odd);
}

int main(void) {
	tcp("127.0.0.1");
	tcp("::1");
	udp();
	unixrights();
	rtnetlink();
	procnet();
	printf(fails ? "netc: FAIL\n" : "netc: done\n");
	return fails != 0;
}
