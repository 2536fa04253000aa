#include "runtime/profile_writer.hpp"

#include <pthread.h>
#include <semaphore.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>

#include "core/signals_blocked.hpp"
#include "runtime/library_unload.hpp"
#include "runtime/profiler_thread.hpp"

namespace dhat::runtime {

namespace {

struct Job {
  const RunSettings* settings = nullptr;
  const std::string* path = nullptr;
  WrittenProfile written;
};

std::mutex g_one_write_at_a_time;
sem_t g_requested;
sem_t g_done;
Job* g_job = nullptr;   // set by the caller before it posts g_requested
pid_t g_writer_of = 0;  // the process whose writer runs (a forked child has none)

void wait_for(sem_t* semaphore) {
  while (sem_wait(semaphore) != 0 && errno == EINTR) {
  }
}

void* writer(void*) {
  for (;;) {
    wait_for(&g_requested);
    g_job->written = write_profile(*g_job->settings, *g_job->path);
    sem_post(&g_done);
  }
  return nullptr;
}

// Under g_one_write_at_a_time.
bool writer_running() {
  if (g_writer_of == getpid()) {
    return true;
  }
  const core::OwnLibcCall not_recorded;  // pthread_create's allocations are the profiler's
  if (sem_init(&g_requested, 0, 0) != 0 || sem_init(&g_done, 0, 0) != 0) {
    return false;
  }
  pthread_attr_t attributes;
  pthread_attr_init(&attributes);
  pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
  pthread_t thread{};
  const bool started = start_profiler_thread(&thread, &attributes, &writer, nullptr) == 0;
  pthread_attr_destroy(&attributes);
  if (started) {
    g_writer_of = getpid();
  }
  return started;
}

}  // namespace

WrittenProfile write_profile_apart(const RunSettings& settings, const std::string& path) {
  if (inside_dlclose()) {
    return write_profile(settings, path);
  }
  const std::lock_guard<std::mutex> one_at_a_time(g_one_write_at_a_time);
  if (!writer_running()) {
    return write_profile(settings, path);
  }
  Job job;
  job.settings = &settings;
  job.path = &path;
  g_job = &job;
  sem_post(&g_requested);
  wait_for(&g_done);  // outside the profiler: this thread's signal handlers are recorded
  g_job = nullptr;
  return job.written;
}

}  // namespace dhat::runtime
