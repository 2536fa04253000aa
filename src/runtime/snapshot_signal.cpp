#include "runtime/snapshot_signal.hpp"

#include <pthread.h>
#include <semaphore.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "format/numbers.hpp"
#include "runtime/profiler_thread.hpp"
#include "runtime/run_control.hpp"
#include "runtime/settings.hpp"

namespace dhat::runtime {

namespace {

sem_t g_snapshot_requests;

void on_snapshot_signal(int) { sem_post(&g_snapshot_requests); }

void* snapshot_writer(void*) {
  for (;;) {
    if (sem_wait(&g_snapshot_requests) == 0) {
      static_cast<void>(write_snapshot_now(""));  // a failure is reported on stderr there
    }
  }
  return nullptr;
}

// "SIGUSR2", "USR2" or "12"; 0 when it names no catchable signal.
int parse_signal(const char* text) {
  std::uint64_t number = 0;
  if (format::parse_decimal(text, 1, 64, &number)) {
    return number == SIGKILL || number == SIGSTOP ? 0 : static_cast<int>(number);
  }
  const char* name = std::strncmp(text, "SIG", 3) == 0 ? text + 3 : text;
  const struct {
    const char* name;
    int number;
  } known[] = {{"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"HUP", SIGHUP}, {"URG", SIGURG}, {"PROF", SIGPROF}};
  for (const auto& k : known) {
    if (std::strcmp(name, k.name) == 0) {
      return k.number;
    }
  }
  return 0;
}

}  // namespace

void install_snapshot_signal() {
  static bool installed = false;
  const char* text = std::getenv("DHAT_SNAPSHOT_SIGNAL");
  if (installed || text == nullptr || *text == '\0') {
    return;
  }
  installed = true;
  const int signal_number = parse_signal(text);
  if (signal_number == 0) {
    std::fprintf(stderr, "dhat: ignoring DHAT_SNAPSHOT_SIGNAL='%s': expected a signal such as SIGUSR2\n", text);
    return;
  }
  if (sem_init(&g_snapshot_requests, 0, 0) != 0) {
    std::fputs("dhat: cannot set up snapshots on a signal (sem_init failed)\n", stderr);
    return;
  }
  pthread_t writer{};
  pthread_attr_t attributes;
  pthread_attr_init(&attributes);
  pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
  // The writer takes no signal (the snapshot one included: it could interrupt its own snapshot).
  const int created = start_profiler_thread(&writer, &attributes, &snapshot_writer, nullptr);
  pthread_attr_destroy(&attributes);
  if (created != 0) {
    std::fputs("dhat: cannot set up snapshots on a signal (no helper thread)\n", stderr);
    return;
  }
  struct sigaction action {};
  action.sa_handler = &on_snapshot_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(signal_number, &action, nullptr);
}

}  // namespace dhat::runtime
