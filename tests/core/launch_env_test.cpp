#include "loom/core/launch_env.hpp"

#include <cstdlib>

#include "test_support.hpp"
#include <gtest/gtest.h>

#include "loom/core/error.hpp"

namespace loom {
namespace {

using namespace loom::test;

const char* const kAllVariables[] = {"OMPI_COMM_WORLD_RANK",
                                     "OMPI_COMM_WORLD_SIZE",
                                     "OMPI_COMM_WORLD_LOCAL_RANK",
                                     "RANK",
                                     "WORLD_SIZE",
                                     "LOCAL_RANK",
                                     "SLURM_PROCID",
                                     "SLURM_NTASKS",
                                     "SLURM_LOCALID",
                                     "SLURM_STEP_ID"};

// Each test starts from an environment without launcher variables (ctest may
// itself run under mpirun or SLURM) and restores it afterwards.
class LaunchEnvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : kAllVariables) {
      if (const char* value = std::getenv(name)) saved_.emplace_back(name, value);
      unsetenv(name);
    }
  }
  void TearDown() override {
    for (const char* name : kAllVariables)
      unsetenv(name);
    for (const auto& [name, value] : saved_)
      setenv(name.c_str(), value.c_str(), 1);
  }

 private:
  std::vector<std::pair<std::string, std::string>> saved_;
};

TEST_F(LaunchEnvTest, NoLauncherMeansASingleProcess) {
  const LaunchEnv env = detect_launch_env();
  EXPECT_EQ(env.rank, 0);
  EXPECT_EQ(env.world_size, 1);
  EXPECT_EQ(env.local_rank, 0);
  EXPECT_TRUE(env.local_rank_known);
  EXPECT_EQ(env.launcher, Launcher::none);
}

TEST_F(LaunchEnvTest, ReadsSlurm) {
  setenv("SLURM_STEP_ID", "0", 1);  // a task srun started
  setenv("SLURM_PROCID", "5", 1);
  setenv("SLURM_NTASKS", "8", 1);
  setenv("SLURM_LOCALID", "1", 1);
  const LaunchEnv env = detect_launch_env();
  EXPECT_EQ(env.rank, 5);
  EXPECT_EQ(env.world_size, 8);
  EXPECT_EQ(env.local_rank, 1);
  EXPECT_TRUE(env.local_rank_known);
  EXPECT_EQ(env.launcher, Launcher::slurm);
}

// An sbatch script (no --ntasks) has SLURM_PROCID and SLURM_LOCALID but no
// SLURM_NTASKS and no step: it is one process, not a rank of a missing world.
TEST_F(LaunchEnvTest, AnSbatchScriptIsOneProcess) {
  setenv("SLURM_PROCID", "0", 1);
  setenv("SLURM_LOCALID", "0", 1);
  LaunchEnv env = detect_launch_env();
  EXPECT_EQ(env.world_size, 1);
  EXPECT_EQ(env.launcher, Launcher::none);
  setenv("SLURM_NTASKS", "4", 1);  // sbatch -n 4: still the script, one process
  env = detect_launch_env();
  EXPECT_EQ(env.world_size, 1);
  EXPECT_EQ(env.launcher, Launcher::none);
}

TEST_F(LaunchEnvTest, MpirunWinsOverSlurmAndPlainVariables) {
  // Inside an sbatch script SLURM_PROCID is the batch step's 0; mpirun's
  // variables say who this process really is.
  setenv("SLURM_PROCID", "0", 1);
  setenv("SLURM_NTASKS", "4", 1);
  setenv("RANK", "0", 1);
  setenv("WORLD_SIZE", "4", 1);
  setenv("OMPI_COMM_WORLD_RANK", "3", 1);
  setenv("OMPI_COMM_WORLD_SIZE", "4", 1);
  setenv("OMPI_COMM_WORLD_LOCAL_RANK", "1", 1);
  const LaunchEnv env = detect_launch_env();
  EXPECT_EQ(env.rank, 3);
  EXPECT_EQ(env.local_rank, 1);
  EXPECT_EQ(env.launcher, Launcher::openmpi);
}

TEST_F(LaunchEnvTest, PlainVariablesWinOverSlurm) {
  setenv("SLURM_PROCID", "0", 1);
  setenv("SLURM_NTASKS", "1", 1);
  setenv("RANK", "1", 1);
  setenv("WORLD_SIZE", "2", 1);
  const LaunchEnv env = detect_launch_env();
  EXPECT_EQ(env.rank, 1);
  EXPECT_EQ(env.world_size, 2);
  EXPECT_FALSE(env.local_rank_known);  // found from host names once the ranks can talk
  EXPECT_EQ(env.launcher, Launcher::env);
}

TEST_F(LaunchEnvTest, MalformedValuesAreClearErrors) {
  setenv("RANK", "one", 1);
  setenv("WORLD_SIZE", "2", 1);
  EXPECT_EQ(error_message<UsageError>([&] { detect_launch_env(); }),
            "environment variable RANK='one' is not a non-negative integer");
  setenv("RANK", "2", 1);
  EXPECT_EQ(error_message<UsageError>([&] { detect_launch_env(); }),
            "RANK=2 is not below WORLD_SIZE=2");
  unsetenv("WORLD_SIZE");
  EXPECT_THROW(detect_launch_env(), UsageError);
}

}  // namespace
}  // namespace loom
