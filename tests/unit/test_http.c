/*
 * test_http.c - lib/http.c against a real loopback socket: a small HTTP
 * server thread in this test answers scripted responses and records what
 * it received. Checks the request line, headers and body sent, status,
 * response headers and body (and its cap), connection reuse, a refused
 * connection (transient), a dropped one, the cancel callback, and that
 * messages never show the query string. The server speaks plain
 * sockets (recv/send), so the test runs on Winsock too; Winsock is
 * started by curl_global_init(), which main() calls before any socket.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"

#include "lib/clock.h"
#include "lib/http.h"
#include "tests/unit/check.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#ifdef PLAT_WINDOWS
#include <winsock2.h>
#include <ws2tcpip.h>
#define sock_close closesocket
#else
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#define sock_close close
#endif

/* Sockets are kept in an int: a SOCKET's value fits one, and
 * INVALID_SOCKET becomes -1. */
static long
sock_read(int fd, char *p, size_t n)
{
  return (long)recv(fd, p, (int)n, 0);
}

static void
sock_write(int fd, const char *p, size_t n)
{
  (void)!send(fd, p, (int)n, 0);
}

struct reply {
  const char *text; /* the whole response; NULL: close without answer */
  int delay_ms;     /* before answering */
};

static struct {
  int lfd;
  int port;
  struct reply replies[16];
  int nreplies, next;
  int accepts;
  char last[65536]; /* the last request, head and body */
  size_t last_len;
  size_t total; /* bytes of the last request, head and body */
} srv;

/* Read one request (head + Content-Length body) into srv.last. */
static int
read_request(int fd)
{
  size_t n = 0;
  char *end = NULL;
  while (!end) {
    if (n + 1 >= sizeof srv.last) return -1;
    long r = sock_read(fd, srv.last + n, sizeof srv.last - 1 - n);
    if (r <= 0) return -1;
    n += (size_t)r;
    srv.last[n] = '\0';
    end = strstr(srv.last, "\r\n\r\n");
  }
  size_t head = (size_t)(end + 4 - srv.last), clen = 0;
  const char *cl = strstr(srv.last, "Content-Length: ");
  if (cl && cl < end) clen = (size_t)strtoul(cl + 16, NULL, 10);
  if (strstr(srv.last, "Expect: 100-continue"))
    sock_write(fd, "HTTP/1.1 100 Continue\r\n\r\n", 25);
  /* Keep what fits; count the rest. */
  size_t total = n;
  while (total < head + clen) {
    char scratch[65536];
    bool fits = n + 1 < sizeof srv.last;
    long r = fits ? sock_read(fd, srv.last + n, sizeof srv.last - 1 - n)
                  : sock_read(fd, scratch, sizeof scratch);
    if (r <= 0) return -1;
    if (fits) n += (size_t)r;
    total += (size_t)r;
  }
  srv.last[n] = '\0';
  srv.last_len = n;
  srv.total = total;
  return 0;
}

static void *
serve(void *arg)
{
  (void)arg;
  for (;;) {
    int fd = (int)accept(srv.lfd, NULL, NULL);
    if (fd < 0) return NULL;
    srv.accepts++;
    while (read_request(fd) == 0) {
      struct reply r = srv.replies[srv.next < srv.nreplies ? srv.next : 0];
      srv.next++;
      if (r.delay_ms) clock_sleep_ms((uint64_t)r.delay_ms);
      if (!r.text) break;
      sock_write(fd, r.text, strlen(r.text));
    }
    sock_close(fd);
  }
}

static void
script(int n, const struct reply *r)
{
  memcpy(srv.replies, r, (size_t)n * sizeof *r);
  srv.nreplies = n;
  srv.next = 0;
}

static bool cancel_now;

static bool
cancel_cb(void)
{
  return cancel_now;
}

static struct http_client *
client(void)
{
  struct http_client_opts o = {"test_http/1", NULL, 2000, 60000, cancel_cb};
  return http_client_new(&o);
}

/* Regular cases. */

static void
test_put_and_reply(void)
{
  struct reply r[] = {{"HTTP/1.1 201 Created\r\nContent-Length: 5\r\n"
                       "Retry-After: 7\r\nX-Ms-Error-Code: Odd\r\n\r\nhello",
                       0}};
  script(1, r);
  struct http_client *c = client();
  char url[128];
  snprintf(url, sizeof url, "http://127.0.0.1:%d/acct/c/b.json?sv=1&sig=SECRET",
           srv.port);
  struct http_header h[] = {{"x-ms-version", "2021-12-02"},
                            {"Content-Type", "application/octet-stream"}};
  struct http_request rq = {"PUT", url, h, 2, "[{\"a\":1}]", 9, 0};
  struct http_response rs;
  CHECK(http_perform(c, &rq, &rs) == 0);
  CHECK(rs.status == 201);
  CHECK(rs.body_len == 5 && strcmp(rs.body, "hello") == 0);
  CHECK_STR(http_response_header(&rs, "retry-after"), "7");
  CHECK_STR(http_response_header(&rs, "x-ms-error-code"), "Odd");
  CHECK(!http_response_header(&rs, "nope"));
  CHECK(strncmp(srv.last, "PUT /acct/c/b.json?sv=1&sig=SECRET HTTP/1.1\r\n",
                45) == 0);
  CHECK(strstr(srv.last, "\r\nx-ms-version: 2021-12-02\r\n"));
  CHECK(strstr(srv.last, "\r\nContent-Length: 9\r\n"));
  CHECK(strstr(srv.last, "\r\nUser-Agent: test_http/1\r\n"));
  CHECK(strcmp(srv.last + srv.last_len - 9, "[{\"a\":1}]") == 0);
  char msg[512];
  http_describe(&rq, &rs, msg, sizeof msg);
  CHECK(strstr(msg, "PUT http://127.0.0.1:") && strstr(msg, "/acct/c/b.json: "
                                                            "HTTP 201 (Odd)"));
  CHECK(!strstr(msg, "SECRET") && !strstr(msg, "sv=1"));
  http_response_free(&rs);

  /* A second request reuses the connection. */
  struct reply r2[] = {{"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 0}};
  script(1, r2);
  int before = srv.accepts;
  struct http_request get = {"GET", url, NULL, 0, NULL, 0, 0};
  CHECK(http_perform(c, &get, &rs) == 0 && rs.status == 200);
  CHECK(srv.accepts == before);
  CHECK(strncmp(srv.last, "GET /acct/c/b.json", 18) == 0);
  http_response_free(&rs);

  /* Empty PUT: Content-Length 0 (create container). */
  script(1, r2);
  struct http_request put0 = {"PUT", url, NULL, 0, NULL, 0, 0};
  CHECK(http_perform(c, &put0, &rs) == 0 && rs.status == 200);
  CHECK(strstr(srv.last, "\r\nContent-Length: 0\r\n"));
  http_response_free(&rs);
  http_client_free(c);
}

static void
test_body_cap_and_100_continue(void)
{
  static char head[256]; /* the server thread may answer after we return */
  snprintf(head, sizeof head,
           "HTTP/1.1 503 Busy\r\nContent-Length: 100\r\n\r\n%0100d", 0);
  struct reply r[] = {{head, 0}};
  script(1, r);
  struct http_client *c = client();
  char url[128];
  snprintf(url, sizeof url, "http://127.0.0.1:%d/x", srv.port);
  /* A body over 1 MiB makes libcurl ask for 100-continue. */
  static char body[1200000];
  memset(body, 'b', sizeof body);
  struct http_request rq = {"PUT", url, NULL, 0, body, sizeof body, 10};
  struct http_response rs;
  CHECK(http_perform(c, &rq, &rs) == 0);
  CHECK(rs.status == 503 && rs.body_len == 10 && rs.body_truncated);
  CHECK(srv.total > sizeof body);
  http_response_free(&rs);
  http_client_free(c);
}

/* Error cases. */

static void
test_refused(void)
{
  int s = (int)socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(s, (struct sockaddr *)&a, sizeof a);
  socklen_t al = sizeof a;
  getsockname(s, (struct sockaddr *)&a, &al);
  sock_close(s); /* nobody listens there now */
  char url[128];
  snprintf(url, sizeof url, "http://127.0.0.1:%d/x?sig=SECRET",
           ntohs(a.sin_port));
  struct http_client *c = client();
  struct http_request rq = {"GET", url, NULL, 0, NULL, 0, 0};
  struct http_response rs;
  CHECK(http_perform(c, &rq, &rs) == -1);
  CHECK(rs.status == 0 && rs.transient && !rs.cancelled);
  char msg[512];
  http_describe(&rq, &rs, msg, sizeof msg);
  CHECK(strstr(msg, "GET http://127.0.0.1:") && !strstr(msg, "SECRET"));
  http_response_free(&rs);
  http_client_free(c);
}

static void
test_dropped_and_cancelled(void)
{
  struct reply drop[] = {{NULL, 0}};
  script(1, drop);
  struct http_client *c = client();
  char url[128];
  snprintf(url, sizeof url, "http://127.0.0.1:%d/x", srv.port);
  struct http_request rq = {"GET", url, NULL, 0, NULL, 0, 0};
  struct http_response rs;
  CHECK(http_perform(c, &rq, &rs) == -1);
  CHECK(rs.status == 0 && rs.transient);
  http_response_free(&rs);

  struct reply slow[] = {
      {"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 1500}};
  script(1, slow);
  cancel_now = true;
  CHECK(http_perform(c, &rq, &rs) == -1);
  CHECK(rs.cancelled && !rs.transient);
  cancel_now = false;
  http_response_free(&rs);

  struct http_client_opts o = {NULL, "/nonexistent/ca.pem", 2000, 0, NULL};
  struct http_client *tls = http_client_new(&o);
  snprintf(url, sizeof url, "https://127.0.0.1:%d/x", srv.port);
  struct http_request rq2 = {"GET", url, NULL, 0, NULL, 0, 0};
  CHECK(http_perform(tls, &rq2, &rs) == -1);
  CHECK(rs.status == 0 && !rs.transient); /* a CA problem is not transient */
  http_response_free(&rs);
  http_client_free(tls);
  http_client_free(c);
  clock_sleep_ms(1600); /* let the slow reply finish before exit */
}

int
main(void)
{
  curl_global_init(CURL_GLOBAL_DEFAULT);
  srv.lfd = (int)socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(srv.lfd, (struct sockaddr *)&a, sizeof a) != 0 ||
      listen(srv.lfd, 8) != 0)
    return 1;
  socklen_t al = sizeof a;
  getsockname(srv.lfd, (struct sockaddr *)&a, &al);
  srv.port = ntohs(a.sin_port);
  pthread_t th;
  pthread_create(&th, NULL, serve, NULL);
  pthread_detach(th);
  test_put_and_reply();
  test_body_cap_and_100_continue();
  test_refused();
  test_dropped_and_cancelled();
  curl_global_cleanup();
  return check_result();
}
