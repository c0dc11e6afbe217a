// The command line's printing (cli/Output.h) beyond the tensor layout tested
// with the readers: the sign of zeros (kept for values, dropped for
// gradients) and the `--json` error object of SPEC §7.
#include <catch2/catch.hpp>

#include "cli/Output.h"

using namespace chain;
using namespace chain::cli;

TEST_CASE("output: values keep -0.0, gradients print 0.0", "[cli][output]") {
  Tensor f64(DType::F64, {2, 2});
  double vals[] = {-0.0, 1.5, 0.0, -2.0};
  for (int i = 0; i < 4; ++i) f64.data<double>()[i] = vals[i];
  Tensor f32(DType::F32, {2});
  f32.data<float>()[0] = -0.0f, f32.data<float>()[1] = -0.5f;
  Value tuple(std::vector<Value>{Value(-0.0), Value(f32), Value(-0.0f)});

  CHECK(toText(Value(-0.0)) == "-0.0");
  CHECK(toJson(Value(-0.0)).dump() == "-0.0");
  CHECK(toText(Value(f64)) == "[[-0.0, 1.5],\n [0.0, -2.0]]");
  CHECK(toJson(tuple).dump() == "[-0.0,[-0.0,-0.5],-0.0]");

  CHECK(toText(Value(-0.0), 0, Zeros::Unsigned) == "0.0");
  CHECK(toJson(Value(-0.0), Zeros::Unsigned).dump() == "0.0");
  CHECK(toText(Value(-0.0f), 0, Zeros::Unsigned) == "0.0");
  CHECK(toText(Value(f64), 0, Zeros::Unsigned) == "[[0.0, 1.5],\n [0.0, -2.0]]");
  CHECK(toJson(Value(f64), Zeros::Unsigned).dump() == "[[0.0,1.5],[0.0,-2.0]]");
  CHECK(toText(tuple, 0, Zeros::Unsigned) == "(0.0, [0.0, -0.5], 0.0)");
  CHECK(toJson(tuple, Zeros::Unsigned).dump() == "[0.0,[0.0,-0.5],0.0]");
  // Only zeros change: the smallest negative number keeps its sign.
  CHECK(toText(Value(-5e-324), 0, Zeros::Unsigned) == "-5e-324");
}

TEST_CASE("output: the --json error object", "[cli][output]") {
  CHECK(errorToJson(3, "missing argument 'x'", {}).dump() ==
        R"({"error":{"exit":3,"message":"missing argument 'x'","diagnostics":[]}})");
  std::vector<CompileError::Diagnostic> diags = {{"m.chain", 2, 9, "unknown name 'y'"},
                                                 {"m.chain", 4, 1, "recursive call to 'f' is not supported"}};
  CHECK(errorToJson(1, "m.chain:2:9: error: ...", diags).dump() ==
        R"({"error":{"exit":1,"message":"m.chain:2:9: error: ...","diagnostics":[)"
        R"({"file":"m.chain","line":2,"col":9,"message":"unknown name 'y'"},)"
        R"({"file":"m.chain","line":4,"col":1,"message":"recursive call to 'f' is not supported"}]}})");
}
