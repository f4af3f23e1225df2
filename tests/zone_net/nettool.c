/*
 * nettool: the network workloads of Lumen's zone network tests, run
 * inside zones (built static, copied into each zone's /opt). Every wait
 * is bounded (alarm), every loop counted; it talks only to the addresses
 * it is given, which the tests take from their own zones.
 *
 *   serve PORT N              accept N TCP connections; read each to EOF,
 *                             answer "got BYTES\n"; print "served N"
 *   send IP PORT BYTES        connect, write BYTES, half-close, print the answer
 *   sink PORT SECS            accept one connection, read for SECS+1 s;
 *                             print the bytes read from 1 s to SECS+1 s after
 *                             the first byte: "window BYTES SECS"
 *   blast IP PORT SECS        connect and write as fast as possible for SECS s
 *   udprecv PORT SECS         count UDP datagrams for SECS s: "udp N"
 *   udpsend IP PORT SIZE N    send N datagrams of SIZE bytes: "sent N"
 *   forge IFACE SRCMAC SRCIP DSTMAC DSTIP PORT N
 *                             send N UDP/IPv4 frames on IFACE (AF_PACKET,
 *                             CAP_NET_RAW) from any MAC and IP: "sent N"
 *   pong IFACE SECS           answer one "lumen-ping" frame (ethertype
 *                             0x88b5) with "lumen-pong" to its sender: "ponged"
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <linux/if_packet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what)
{
    fprintf(stderr, "nettool: %s: %s\n", what, strerror(errno));
    exit(1);
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void timeout(int fd, int secs)
{
    struct timeval tv = {secs, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

static int listener(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    if (fd < 0)
        die("socket");
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0)
        die("bind");
    if (listen(fd, 64) < 0)
        die("listen");
    timeout(fd, 30);
    return fd;
}

static int connect_to(const char *ip, int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    if (fd < 0)
        die("socket");
    if (inet_pton(AF_INET, ip, &a.sin_addr) != 1) {
        fprintf(stderr, "nettool: bad address %s\n", ip);
        exit(1);
    }
    timeout(fd, 30);
    /* The server may still be starting: retry for up to 10 s. */
    for (int i = 0; i < 100; i++) {
        if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0)
            return fd;
        if (errno != ECONNREFUSED)
            die("connect");
        close(fd);
        fd = socket(AF_INET, SOCK_STREAM, 0);
        timeout(fd, 30);
        usleep(100000);
    }
    die("connect");
    return -1;
}

static char buf[1 << 16];

static int serve(int port, int n)
{
    int l = listener(port);
    printf("listening\n");
    fflush(stdout);
    for (int i = 0; i < n; i++) {
        int c = accept(l, NULL, NULL);
        long got = 0;
        ssize_t r;
        if (c < 0)
            die("accept");
        timeout(c, 30);
        while ((r = read(c, buf, sizeof buf)) > 0)
            got += r;
        dprintf(c, "got %ld\n", got);
        close(c);
    }
    printf("served %d\n", n);
    return 0;
}

static int send_bytes(const char *ip, int port, long bytes)
{
    int fd = connect_to(ip, port);
    long left = bytes;
    ssize_t r;
    memset(buf, 'x', sizeof buf);
    while (left > 0) {
        r = write(fd, buf, left < (long)sizeof buf ? left : (long)sizeof buf);
        if (r <= 0)
            die("write");
        left -= r;
    }
    shutdown(fd, SHUT_WR);
    r = read(fd, buf, sizeof buf - 1);
    if (r <= 0)
        die("read answer");
    buf[r] = 0;
    printf("%s", buf);
    close(fd);
    return 0;
}

static int sink(int port, int secs)
{
    int l = listener(port), c;
    double start = 0, t;
    long window = 0;
    ssize_t r;
    printf("listening\n");
    fflush(stdout);
    c = accept(l, NULL, NULL);
    if (c < 0)
        die("accept");
    timeout(c, 10);
    while ((r = read(c, buf, sizeof buf)) > 0) {
        t = now();
        if (start == 0)
            start = t;
        if (t - start >= 1.0 && t - start < 1.0 + secs)
            window += r;
        if (t - start >= 1.0 + secs)
            break;
    }
    printf("window %ld %d\n", window, secs);
    close(c);
    return 0;
}

static int blast(const char *ip, int port, int secs)
{
    int fd = connect_to(ip, port);
    double end = now() + secs;
    memset(buf, 'y', sizeof buf);
    while (now() < end)
        if (write(fd, buf, sizeof buf) <= 0)
            break;
    close(fd);
    return 0;
}

static int udprecv(int port, int secs)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0), n = 0;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    double end = now() + secs;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0)
        die("udp bind");
    timeout(fd, 1);
    printf("listening\n");
    fflush(stdout);
    while (now() < end)
        if (recv(fd, buf, sizeof buf, 0) > 0)
            n++;
    printf("udp %d\n", n);
    return 0;
}

static int udpsend(const char *ip, int port, int size, int n)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0), sent = 0;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    if (fd < 0 || inet_pton(AF_INET, ip, &a.sin_addr) != 1 || size > (int)sizeof buf)
        die("udpsend");
    memset(buf, 'u', size);
    for (int i = 0; i < n; i++) {
        if (sendto(fd, buf, size, 0, (struct sockaddr *)&a, sizeof a) == size)
            sent++;
        usleep(2000);
    }
    printf("sent %d\n", sent);
    return 0;
}

static int parse_mac(const char *s, unsigned char *m)
{
    unsigned v[6];
    if (sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
        return -1;
    for (int i = 0; i < 6; i++)
        m[i] = v[i];
    return 0;
}

static uint16_t csum(const void *p, int len)
{
    const uint16_t *w = p;
    uint32_t s = 0;
    for (; len > 1; len -= 2)
        s += *w++;
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return ~s;
}

static int packet_socket(const char *iface, struct sockaddr_ll *ll, int proto)
{
    int fd = socket(AF_PACKET, SOCK_RAW, htons(proto));
    if (fd < 0)
        die("socket(AF_PACKET)");
    memset(ll, 0, sizeof *ll);
    ll->sll_family = AF_PACKET;
    ll->sll_protocol = htons(proto);
    ll->sll_ifindex = if_nametoindex(iface);
    if (!ll->sll_ifindex)
        die(iface);
    if (bind(fd, (struct sockaddr *)ll, sizeof *ll) < 0)
        die("bind(AF_PACKET)");
    return fd;
}

static int forge(char **a)
{
    unsigned char f[14 + 20 + 8 + 16];
    struct sockaddr_ll ll;
    int fd = packet_socket(a[0], &ll, 0x0800), n = atoi(a[6]), sent = 0;
    uint8_t *ip = f + 14, *udp = f + 34;
    memset(f, 0, sizeof f);
    if (parse_mac(a[3], f) || parse_mac(a[1], f + 6)) {
        fprintf(stderr, "nettool: bad MAC\n");
        return 1;
    }
    f[12] = 0x08;
    ip[0] = 0x45;
    ip[2] = 0;
    ip[3] = 20 + 8 + 16;
    ip[8] = 64;
    ip[9] = 17;
    inet_pton(AF_INET, a[2], ip + 12);
    inet_pton(AF_INET, a[4], ip + 16);
    *(uint16_t *)(ip + 10) = csum(ip, 20);
    *(uint16_t *)(udp + 0) = htons(40000);
    *(uint16_t *)(udp + 2) = htons(atoi(a[5]));
    *(uint16_t *)(udp + 4) = htons(8 + 16);
    memcpy(udp + 8, "lumen-forged-udp", 16);
    ll.sll_halen = 6;
    memcpy(ll.sll_addr, f, 6);
    for (int i = 0; i < n; i++) {
        if (sendto(fd, f, sizeof f, 0, (struct sockaddr *)&ll, sizeof ll) == sizeof f)
            sent++;
        usleep(2000);
    }
    printf("sent %d\n", sent);
    return 0;
}

static int pong(const char *iface, int secs)
{
    struct sockaddr_ll ll;
    int fd = packet_socket(iface, &ll, 0x88b5);
    unsigned char f[1514], mine[6], reply[60];
    double end = now() + secs;
    struct ifreq ifr;
    timeout(fd, 1);
    memset(&ifr, 0, sizeof ifr);
    strncpy(ifr.ifr_name, iface, IFNAMSIZ - 1);
    if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
        die("SIOCGIFHWADDR");
    memcpy(mine, ifr.ifr_hwaddr.sa_data, 6);
    printf("listening\n");
    fflush(stdout);
    while (now() < end) {
        ssize_t r = recv(fd, f, sizeof f, 0);
        if (r < 14 + 10 || memcmp(f + 14, "lumen-ping", 10) != 0)
            continue;
        memset(reply, 0, sizeof reply);
        memcpy(reply, f + 6, 6);
        memcpy(reply + 6, mine, 6);
        reply[12] = 0x88;
        reply[13] = 0xb5;
        memcpy(reply + 14, "lumen-pong", 10);
        memcpy(ll.sll_addr, f + 6, 6);
        ll.sll_halen = 6;
        if (sendto(fd, reply, sizeof reply, 0, (struct sockaddr *)&ll, sizeof ll) != sizeof reply)
            die("send pong");
        printf("ponged\n");
        return 0;
    }
    printf("no ping\n");
    return 1;
}

int main(int argc, char **argv)
{
    alarm(60);
    if (argc == 4 && !strcmp(argv[1], "serve"))
        return serve(atoi(argv[2]), atoi(argv[3]));
    if (argc == 5 && !strcmp(argv[1], "send"))
        return send_bytes(argv[2], atoi(argv[3]), atol(argv[4]));
    if (argc == 4 && !strcmp(argv[1], "sink"))
        return sink(atoi(argv[2]), atoi(argv[3]));
    if (argc == 5 && !strcmp(argv[1], "blast"))
        return blast(argv[2], atoi(argv[3]), atoi(argv[4]));
    if (argc == 4 && !strcmp(argv[1], "udprecv"))
        return udprecv(atoi(argv[2]), atoi(argv[3]));
    if (argc == 6 && !strcmp(argv[1], "udpsend"))
        return udpsend(argv[2], atoi(argv[3]), atoi(argv[4]), atoi(argv[5]));
    if (argc == 9 && !strcmp(argv[1], "forge"))
        return forge(argv + 2);
    if (argc == 4 && !strcmp(argv[1], "pong"))
        return pong(argv[2], atoi(argv[3]));
    fprintf(stderr, "usage: see nettool.c\n");
    return 2;
}
