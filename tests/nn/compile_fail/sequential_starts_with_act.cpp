// Must NOT compile: the first layer has to fix the input size.
#include <actjit/nn/sequential.hpp>

using namespace actjit::nn;

int main() {
    Sequential<Act<"relu">, Linear<4, 1>> net;
    return static_cast<int>(net.size());
}
