// An empty program linked with one whole layer library (see link_check_* in CMakeLists.txt):
// it links only when the layer needs nothing beyond the layers it declares.
int main() {
    return 0;
}
